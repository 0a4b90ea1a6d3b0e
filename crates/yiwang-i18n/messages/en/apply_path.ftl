# The citizen's application path (issue 15: one form, no lost answers, errors in sight).
apply.from_account = From your account; you can change it.
apply.materials_intro = Choose a file under each document, then press "Next" or "Save": your answers and the chosen files are saved together, nothing is lost.
apply.slot_rule = {types} files, up to {limit} each.
apply.slot_missing = Not uploaded yet; this document is required.
apply.slot_done = Uploaded.
apply.choose_another = Add another file
apply.save_all = Save (with the chosen files)
apply.saved_files = Saved; {count} file(s) uploaded.
apply.cut = Some files did not arrive, please choose them again: {reason}
nav.logout = Sign out
