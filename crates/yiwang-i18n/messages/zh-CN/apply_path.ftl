# The citizen's application path (issue 15: one form, no lost answers, errors in sight).
apply.from_account = 来自账户，可以修改。
apply.materials_intro = 在每项材料下选择文件，再按“下一步”或“保存”：填写的内容和所选的文件一起保存，不会丢失。
apply.slot_rule = 可上传 {types} 文件，每个不超过 {limit}。
apply.slot_missing = 还没有上传，这是必需材料。
apply.slot_done = 已上传。
apply.choose_another = 再添加一个文件
apply.save_all = 保存（含所选文件）
apply.saved_files = 已保存，上传了 {count} 个文件。
apply.cut = 有文件没有收到，请重新选择：{reason}
nav.logout = 退出
