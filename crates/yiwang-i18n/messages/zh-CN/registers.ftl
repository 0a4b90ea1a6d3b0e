# 基础库（人口、法人、电子证照）及其导入
error.unknown_column = 文件中有本库不认识的列，请删去或改为规定的列名
error.duplicate_key = 同一编号在文件中出现了不止一次，每个编号只能有一行
error.resident_id_check_failed = 公民身份号码的校验位不正确，请核对是否抄错
error.inconsistent_value = 该值与同一行的其他值矛盾（例如出生日期、性别与身份号码不符）
registers.population = 人口基础库
registers.legal_entity = 法人基础库
registers.licence = 电子证照库
registers.import_done = 已导入 {kind}：{rows} 行
registers.import_refused = {kind} 未导入：发现 {count} 个问题，未写入任何数据
sheet.register = 基础库文件
