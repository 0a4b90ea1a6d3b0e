# Registers (population, legal entities, e-licences) and their import
error.unknown_column = The file has a column this register does not know; remove it or use the standard header
error.duplicate_key = The same number appears more than once in the file; each number may have one row only
error.resident_id_check_failed = The check digit of the resident ID number is wrong; please check for a typing mistake
error.inconsistent_value = This value contradicts another value in the same row (for example the birth date or sex does not match the ID number)
registers.population = Population register
registers.legal_entity = Legal-entity register
registers.licence = E-licence library
registers.import_done = Imported {kind}: {rows} rows
registers.import_refused = {kind} not imported: {count} problems found, nothing written
sheet.register = Register file
