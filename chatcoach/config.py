"""Settings in one place: every knob can be set by an environment variable ``CHATCOACH_*``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHATCOACH_")

    # Built weights (the converted encoder, fine-tuned encoders) are too big for git;
    # they live here and are rebuilt by setup when missing or corrupt.
    cache_dir: Path = Path.home() / ".cache" / "chatcoach"
    # Small trained artifacts (heads, thresholds, manifests) that are committed.
    artifacts_dir: Path = REPO_ROOT / "models" / "artifacts"
    labeled_chats_dir: Path = REPO_ROOT / "labeled_chats"
    # Company rules layered over the models (keywords, regexes, exclusions); hot-reloaded.
    rules_path: Path = REPO_ROOT / "models" / "rules" / "default.yaml"
    database_url: str = f"sqlite:///{REPO_ROOT / 'chatcoach.db'}"
    max_body_bytes: int = 20 * 1024 * 1024
    encode_batch_size: int = 64
    # auto = bfloat16 on CPUs with native bf16 (AVX512-BF16 / AMX), float32 elsewhere (eval/bench_encoder.py)
    encoder_dtype: str = "auto"
    torch_threads: int = 0  # 0 = let torch decide
    # Where people open the console; alert messages link here.
    public_url: str = "http://127.0.0.1:8000"
    # Audit jobs and alert deliveries are worked by a thread in the API process unless a
    # separate `chatcoach worker` does it (set false then).
    inprocess_worker: bool = True
    audit_batch_size: int = 32
    # Daily reports: the company's time zone and working hours for the reply-time SLA.
    report_timezone: str = "Asia/Shanghai"
    working_hours: tuple[int, int] = (9, 21)
    reply_sla_seconds: int = 300

    @property
    def encoder_dir(self) -> Path:
        return self.cache_dir / "e5-small"

    @property
    def analyzer_encoder_dir(self) -> Path:
        """e5 fine-tuned on the training chats' stages and flags; built at setup."""
        return self.cache_dir / "e5-small-analyzer"

    @property
    def suggestion_encoder_dir(self) -> Path:
        """e5 fine-tuned on (conversation → script) pairs of the training chats; built at setup."""
        return self.cache_dir / "e5-small-sop"


@lru_cache
def get_settings() -> Settings:
    return Settings()
