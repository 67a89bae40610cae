"""`python -m bot`: serve the app with uvicorn on the configured host and port."""

import uvicorn

from bot.settings import Settings, get_settings


def uvicorn_options(settings: Settings) -> dict:
    """How uvicorn serves bot/. Behind a load balancer, FORWARDED_ALLOW_IPS names it: uvicorn then takes
    the client's address from its X-Forwarded-For, so rate limits count real clients, not the balancer."""
    return dict(
        host=settings.bot_host,
        port=settings.bot_port,
        log_level=settings.log_level.lower(),
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


def main() -> None:
    uvicorn.run("bot.app:create_app", factory=True, **uvicorn_options(get_settings()))


if __name__ == "__main__":
    main()
