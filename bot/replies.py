"""The few texts bot/ itself says to users (everything else comes from Rasa and the knowledge base)."""

EMPTY_MESSAGE = "您好，请问有什么可以帮您？可以直接输入您的问题，例如“证件照有什么要求”。"
MESSAGE_TOO_LONG = "您的消息太长了（超过{limit}字），请精简成一两句话再发给我，例如直接描述您遇到的提示或问题。"
ASSISTANT_UNAVAILABLE = "抱歉，助手暂时无法回复，请稍后再试。如需帮助，可以稍后回复“转人工”联系客服。"
INVALID_REQUEST = "请求格式不正确，请检查后重试。"
NO_REPLY = "抱歉，我暂时无法回答这个问题，请稍后再试，或回复“转人工”联系客服。"
RATE_LIMITED = "您发送得太快了，请稍等片刻再试。"
# Requests bot/ refuses before (or while) reading them: bot/limits.py and bot/errors.py.
BODY_TOO_LARGE = "请求内容太大（超过 {kb} KB），请精简后再发送。"
JSON_TOO_DEEP = "请求的 JSON 嵌套层数太多（超过 {depth} 层），请检查请求格式。"
BODY_UNREADABLE = "请求内容无法解析：请发送 UTF-8 编码的 JSON。"
RESERVED_SENDER = "会话标识 sender 不能以 wx: 开头（这是微信公众号会话专用的前缀）。"
INVALID_METADATA = "metadata 必须是 JSON 对象，且不能包含 NaN、Infinity 等非标准数值。"
NOT_FOUND = "没有这个地址，请检查链接是否正确。"
METHOD_NOT_ALLOWED = "这个地址不支持这种请求方式。"
UNAUTHORIZED = "需要登录或有效的凭证才能访问。"
SERVER_ERROR = "服务暂时出现问题，请稍后再试。"
# The knowledge index cannot be read (bot/routes/knowledge.py, bot/errors.py).
INDEX_UNAVAILABLE = "知识库暂时不可用，请稍后再试；如需帮助可以回复“转人工”。"

# WeChat Official Account (公众号) channel.
WECHAT_WELCOME = (
    "您好，欢迎关注！我是福建二级建造师注册助手，可以帮您：\n"
    "· 解答注册问题：申报条件、实名认证、办理流程、电子证书、执业印章等\n"
    "· 按您的情况一步步说明怎么办理\n"
    "· 介绍考试培训课程和班型，并在线报名\n"
    "直接发文字提问即可，例如“证件照有什么要求”。需要人工帮助请回复“转人工”。"
)
WECHAT_TEXT_ONLY = (
    "抱歉，我目前只能看懂文字消息。请用文字描述您的问题，例如“电子证书怎么下载”。需要人工帮助请回复“转人工”。"
)
WECHAT_OPTIONS_PROMPT = "回复数字选择："
WECHAT_HANDOFF_BY_REPLY = "如需人工客服，请回复“转人工”。"
WECHAT_NOT_CONFIGURED = "微信公众号接入尚未配置（缺少 WECHAT_TOKEN）。"
WECHAT_SAFE_MODE_NOT_CONFIGURED = "微信公众号安全模式尚未配置（缺少或无效的 WECHAT_AES_KEY / WECHAT_APPID）。"
WECHAT_BAD_SIGNATURE = "签名校验失败。"
WECHAT_STALE_TIMESTAMP = "请求时间戳无效或已过期。"
WECHAT_REPLAYED = "这个签名已用于另一条消息，请求被拒绝。"
WECHAT_MALFORMED = "消息格式不正确。"
WECHAT_TOO_LARGE = "消息体过大。"
