# Outbound notifications (SMS / WeChat), rendered in zh-CN when sent; {args} from the outbox row.
# Keep them short (an SMS segment is 70 characters); the gateway adds the registered signature
# (【…】). `*_key` arguments name catalog entries: status_key=x → {status} = case_status.x.
notify.case_submitted = 您的申请已提交，办件编号{case_number}，请留意办理进度。
notify.case_accepted = 您的办件{case_number}已受理，承诺办结日期{due_date}。
notify.case_rejected = 您的办件{case_number}不予受理，请登录查看不予受理决定书。
notify.correction_required = 您的办件{case_number}需要补正材料，请登录查看一次性告知书并按要求补正。
notify.case_resumed = 您的办件{case_number}已收到补正材料，继续办理。
notify.case_decided = 您的办件{case_number}已作出决定，请登录查看。
notify.case_completed = 您的办件{case_number}已办结，可登录下载结果文书。
notify.case_submitted_code = 您的办件{case_number}已提交，查询码{query_code}。凭办件编号和查询码可在网站“办件进度查询”或拨打12345查询进度。
notify.case_status = 您的办件{case_number}状态更新：{status}。
notify.test = 测试消息：{text}
notify.password_reset_code = 验证码{code}，用于找回一网通办账号密码，{minutes}分钟内有效，请勿告诉他人。
notify.password_reset_done = 您的账号密码已通过短信验证码重新设置，所有设备上的登录已退出。如果不是您本人操作，请立即联系办事大厅。
