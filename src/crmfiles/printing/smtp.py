"""Delivering a message through crm.yaml's ``mail.smtp``.

The password is never in the repository: it is read from the environment variable
``password_env`` names (default ``CRM_SMTP_PASSWORD``).  ``security`` is ``starttls``
(default, port 587), ``ssl`` (implicit TLS, port 465) or ``none`` (port 25; for a relay
on a trusted network).  Every failure — refused connection, timeout, TLS, login,
recipients — is a :class:`CrmError` with a sentence, not a traceback.
"""

from __future__ import annotations

import base64
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from crmfiles import notices
from crmfiles.errors import CrmError

DEFAULT_PASSWORD_ENV = "CRM_SMTP_PASSWORD"
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    security: str
    user: str | None
    password_env: str

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def settings(raw_config: Mapping[str, Any]) -> Settings:
    """``mail.smtp`` of crm.yaml (the schema has checked its shape)."""
    mail = raw_config.get("mail")
    smtp = mail.get("smtp") if isinstance(mail, dict) else None
    if not isinstance(smtp, dict) or not smtp.get("host"):
        raise CrmError(
            "crm.yaml has no mail.smtp: nowhere to send through",
            hint="add mail: {smtp: {host: ..., port: 587, user: ...}} to crm.yaml, or write "
            "the message with -o FILE.eml and send it from your mail client",
        )
    security = str(smtp.get("security", "starttls"))
    user = smtp.get("user")
    return Settings(
        host=str(smtp["host"]),
        port=int(smtp.get("port") or DEFAULT_PORTS.get(security, 587)),
        security=security,
        user=str(user) if user else None,
        password_env=str(smtp.get("password_env") or DEFAULT_PASSWORD_ENV),
    )


def password(config: Settings, environ: Mapping[str, str]) -> str | None:
    if config.user is None:
        return None
    value = environ.get(config.password_env)
    if not value:
        raise CrmError(
            f"mail.smtp.user is {config.user}, but the environment variable "
            f"{config.password_env} holding the password is not set",
            hint=f"export {config.password_env}=...; the password never goes in the "
            "repository (mail.smtp.password_env names another variable)",
        )
    return value


def deliver(
    message: EmailMessage,
    config: Settings,
    environ: Mapping[str, str],
    *,
    timeout: float = TIMEOUT_SECONDS,
) -> list[str]:
    """Send ``message`` to its To and Cc; the recipients the server refused (when it
    took the others: the message is sent), or a CrmError when nothing was sent."""
    secret = password(config, environ)
    if secret is not None and config.security == "none":
        notices.warn(
            f"mail.smtp.security is none: the password for {config.user} crosses the "
            "network unencrypted"
        )
    tls = ssl.create_default_context()
    try:
        client: smtplib.SMTP
        if config.security == "ssl":
            client = smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=tls)
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=timeout)
        with client:
            client.ehlo()
            if config.security == "starttls":
                client.starttls(context=tls)
                client.ehlo()
            if config.user is not None and secret is not None:
                _login(client, config.user, secret)
            refused = client.send_message(message)
    except smtplib.SMTPNotSupportedError as exc:
        raise CrmError(
            f"the SMTP server {config.where} does not support what was asked: {exc}",
            hint="STARTTLS not offered? set mail.smtp.security to ssl (or none on a "
            "trusted network); AUTH not offered? leave mail.smtp.user out",
        ) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise CrmError(
            f"the SMTP server {config.where} refused the login of {config.user}: "
            f"{exc.smtp_code} {_said(exc.smtp_error)}",
            hint=f"check mail.smtp.user and the password in {config.password_env}",
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        who = ", ".join(f"{a} ({c} {_said(m)})" for a, (c, m) in exc.recipients.items())
        raise CrmError(f"the SMTP server {config.where} refused every recipient: {who}") from None
    except smtplib.SMTPResponseException as exc:
        raise CrmError(
            f"the SMTP server {config.where} said {exc.smtp_code} {_said(exc.smtp_error)}"
        ) from None
    except smtplib.SMTPException as exc:
        raise CrmError(f"sending through {config.where} failed: {exc}") from None
    except ssl.SSLError as exc:
        raise CrmError(
            f"TLS with {config.where} failed: {exc.reason or exc}",
            hint="security: ssl needs a server speaking TLS at once (port 465); starttls "
            "a plain port that upgrades (587)",
        ) from None
    except ConnectionRefusedError:
        raise CrmError(
            f"cannot connect to the SMTP server {config.where}: connection refused",
            hint="is mail.smtp.host and port in crm.yaml right, and the server up?",
        ) from None
    except TimeoutError:
        raise CrmError(
            f"the SMTP server {config.where} did not answer within {timeout:g} seconds"
        ) from None
    except OSError as exc:
        raise CrmError(
            f"cannot reach the SMTP server {config.where}: {exc.strerror or exc}"
        ) from None
    return sorted(refused)


def _login(client: smtplib.SMTP, user: str, secret: str) -> None:
    """smtplib's login, which encodes as ASCII; a password beyond ASCII ("päss") goes
    as UTF-8 through AUTH PLAIN (RFC 4616), the mechanism that carries it."""
    if user.isascii() and secret.isascii():
        client.login(user, secret)
        return
    if "PLAIN" not in client.esmtp_features.get("auth", "").upper().split():
        raise CrmError(
            "the SMTP user or password has characters beyond ASCII, which only AUTH PLAIN "
            "carries, and the server does not offer it"
        )
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + secret.encode()).decode("ascii")
    code, answer = client.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, answer)


def _said(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
