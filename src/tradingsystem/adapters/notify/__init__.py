"""Notification channels (apprise email/webhooks, Telegram, espeak-ng voice), the dispatcher and the
Telegram command poller."""

from tradingsystem.adapters.notify.channels import AppriseChannel, EmailConfig, VoiceChannel, VoiceConfig, WebhookConfig
from tradingsystem.adapters.notify.control import KernelControl
from tradingsystem.adapters.notify.dispatcher import ChannelStats, Dispatcher, DispatcherConfig
from tradingsystem.adapters.notify.telegram import (
    TelegramBotApi,
    TelegramChannel,
    TelegramCommands,
    TelegramConfig,
    TelegramError,
)

__all__ = [
    "AppriseChannel", "ChannelStats", "Dispatcher", "DispatcherConfig", "EmailConfig", "KernelControl",
    "TelegramBotApi", "TelegramChannel", "TelegramCommands", "TelegramConfig", "TelegramError", "VoiceChannel",
    "VoiceConfig", "WebhookConfig",
]
