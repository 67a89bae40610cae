"""The few texts bot/ itself says to users (everything else comes from Rasa and the knowledge base)."""

EMPTY_MESSAGE = "您好，请问有什么可以帮您？可以直接输入您的问题，例如“证件照有什么要求”。"
MESSAGE_TOO_LONG = "您的消息太长了（超过{limit}字），请精简成一两句话再发给我，例如直接描述您遇到的提示或问题。"
ASSISTANT_UNAVAILABLE = "抱歉，助手暂时无法回复，请稍后再试。如需帮助，可以稍后回复“转人工”联系客服。"
INVALID_REQUEST = "请求格式不正确，请检查后重试。"
RATE_LIMITED = "您发送得太快了，请稍等片刻再试。"
