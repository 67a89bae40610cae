"""`python -m bot`: serve the app with uvicorn on the configured host and port."""
import uvicorn

from bot.settings import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run("bot.app:create_app", factory=True, host=settings.bot_host, port=settings.bot_port,
                log_level=settings.log_level.lower(), access_log=False)


if __name__ == "__main__":
    main()
