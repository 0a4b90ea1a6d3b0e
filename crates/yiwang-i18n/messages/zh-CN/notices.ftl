# Notices and certificates, the verification pages, the console menu and dashboard, TOTP
# enrolment (issue #15, items 11, 13–16).
notices.totp.qr_caption = 用身份验证器应用扫描此二维码，即可添加密钥（无法扫描时手动输入下面的密钥）。
notices.pdf.digest = 文书摘要（SM3）：{digest}
forms.def.unknown_certificate_field = 证照映射引用了表单中不存在（或为分组）的字段“{field}”。
notices.verify.doc_number = 文号（证照编号）
notices.verify.printed_digest = 文书上印的摘要
notices.verify.printed_digest_note = 与文书底部“文书摘要”逐段核对
notices.verify.file_digest = 电子文件摘要
notices.verify.file_digest_note = 下载的 PDF 文件的摘要
notices.verify.box_label = 核验码
notices.verify.box_hint = 文书底部二维码旁的 20 位字母和数字，不区分大小写。
notices.verify.box_submit = 核验
notices.dash.cases = 待办办件
notices.dash.total = 待我处理
notices.dash.overdue = 已超期
notices.dash.due_soon = 即将到期
notices.dash.urgent = 最紧急的办件（超期的在前）
