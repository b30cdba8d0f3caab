"""Channels on their own: voice, apprise routes, configuration and secrets."""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from tests.alerts.servers import SmtpServer, TelegramFake, free_port, wait_until
from tradingsystem.adapters.notify import (
    AppriseChannel,
    Dispatcher,
    DispatcherConfig,
    EmailConfig,
    TelegramBotApi,
    TelegramChannel,
    TelegramError,
    VoiceChannel,
    VoiceConfig,
)
from tradingsystem.domain.alerts import Severity
from tradingsystem.ports.notify import ChannelError, Notification
from tradingsystem.runtime.alerts_setup import AlertsConfig, build_channels

NOTE = Notification("kill_switch", Severity.CRITICAL, "TradingSystem CRITICAL: kill switch engaged: test",
                    "kill switch engaged: test\nkind: kill_switch", 0)


def test_voice_channel_speaks_the_message(tmp_path: Path):
    out = tmp_path / "spoken.txt"
    script = f"import sys; open({str(out)!r}, 'w').write(sys.argv[1])"
    voice = VoiceChannel(VoiceConfig(command=[sys.executable, "-c", script]))
    voice.send(NOTE)
    assert out.read_text() == "critical alert. kill switch engaged: test. critical alert. kill switch engaged: test."
    with pytest.raises(ChannelError):
        VoiceChannel(VoiceConfig(command=[sys.executable, "-c", "raise SystemExit(3)"])).send(NOTE)


def _wav_stats(wav: Path) -> tuple[float, float]:
    """Duration (s) and RMS amplitude of a WAV file, read with the standard library."""
    import array
    import wave

    with wave.open(str(wav)) as w:
        frames = array.array("h", w.readframes(w.getnframes()))
        seconds = w.getnframes() / w.getframerate()
    rms = (sum(x * x for x in frames) / max(1, len(frames))) ** 0.5
    return seconds, rms


def test_espeak_ng_speaks_alerts_louder_and_longer_by_severity(tmp_path: Path):
    assert shutil.which("espeak-ng"), "make test installs espeak-ng (SYSTEM_PACKAGES)"
    warning = Notification("data_gap", Severity.WARNING, "gap", "data gap recorded: test\nkind: data_gap", 0)
    out = {}
    for name, note in (("critical", NOTE), ("warning", warning)):
        wav = tmp_path / f"{name}.wav"
        VoiceChannel(VoiceConfig(command=["espeak-ng", "-w", str(wav)], min_severity=Severity.INFO)).send(note)
        out[name] = _wav_stats(wav)  # to a file: no sound card needed
    (crit_s, crit_rms), (warn_s, warn_rms) = out["critical"], out["warning"]
    assert crit_s > 2.0 and warn_s > 0.5  # real speech, the critical one said twice
    assert crit_rms > 1.3 * warn_rms  # and louder


def test_email_url_quotes_credentials_and_keeps_them_secret():
    cfg = EmailConfig(host="smtp.example.com", username="bot@example.com", password=SecretStr("p@ss/w:rd"),
                      from_addr="bot@example.com", to=["a@example.com", "b@example.com"])
    url = cfg.apprise_url().get_secret_value()
    assert url.startswith("mailtos://bot%40example.com:p%40ss%2Fw%3Ard@smtp.example.com:587/?")
    assert "mode=starttls" in url and "to=a%40example.com%2Cb%40example.com" in url
    assert "p@ss" not in repr(cfg) and "p%40ss" not in str(cfg.apprise_url())


def test_secrets_come_from_the_environment_and_are_never_logged(telegram: TelegramFake,
                                                                 caplog: pytest.LogCaptureFixture):
    cfg = AlertsConfig.model_validate({"telegram": {"chat_ids": [1], "api_base": f"http://127.0.0.1:{free_port()}"}})
    with pytest.raises(ValueError, match="TRADINGSYSTEM_TELEGRAM_TOKEN"):
        build_channels(cfg)
    caplog.set_level(logging.DEBUG)
    api = TelegramBotApi(SecretStr(telegram.token), f"http://127.0.0.1:{free_port()}", timeout=2)  # dead port
    with pytest.raises(TelegramError) as err:
        api.get_me()
    assert telegram.token not in str(err.value)
    dispatcher = Dispatcher([TelegramChannel(api, [1])], DispatcherConfig(attempts=2, backoff_seconds=0.01))
    dispatcher.start()
    dispatcher.submit(NOTE)
    assert dispatcher.flush(10) and dispatcher.stats()["telegram"].failed == 1
    dispatcher.close()
    assert "giving up" in caplog.text and telegram.token not in caplog.text


def test_bot_api_client_speaks_get_me(telegram: TelegramFake):
    api = TelegramBotApi(SecretStr(telegram.token), telegram.base)
    assert api.get_me()["username"] == "t_bot"
    with pytest.raises(TelegramError, match="404"):
        TelegramBotApi(SecretStr("wrong"), telegram.base).get_me()


def test_apprise_telegram_url_as_a_webhook(telegram: TelegramFake, monkeypatch: pytest.MonkeyPatch):
    from apprise.plugins.telegram import NotifyTelegram

    monkeypatch.setattr(NotifyTelegram, "notify_url", f"{telegram.base}/bot")
    channel = AppriseChannel("tg-apprise", [SecretStr(f"tgram://{telegram.token}/777")], min_interval_seconds=0)
    channel.send(NOTE)
    assert wait_until(lambda: len(telegram.texts(777)) == 1, 5)
    assert "kill switch engaged: test" in telegram.texts(777)[0]


def test_email_channel_delivers_to_smtp(smtp: SmtpServer):
    cfg = EmailConfig(host="127.0.0.1", port=smtp.port, secure="none", from_addr="bot@example.com",
                      to=["ops@example.com"], min_interval_seconds=0)
    AppriseChannel("email", [cfg.apprise_url()], min_interval_seconds=0).send(NOTE)
    assert len(smtp.messages) == 1 and smtp.messages[0]["To"] == "ops@example.com"


def test_bad_config_is_rejected():
    with pytest.raises(ValidationError):
        AlertsConfig.model_validate({"email": {"host": "x", "from_addr": "a@b", "to": []}})
    with pytest.raises(ValidationError):
        AlertsConfig.model_validate({"telegram": {"chat_ids": [1], "colour": "red"}})
    with pytest.raises(ValueError, match="does not accept"):
        AppriseChannel("bad", [SecretStr("nosuchscheme://x")])
