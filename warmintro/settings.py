"""One typed settings object, built once by each entry point and passed down.

Nothing here reads the environment at import time: `Settings()` does, when an entry point calls it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Providers langchain 1.x's init_chat_model knows by name (langchain.chat_models.base._BUILTIN_PROVIDERS).
MODEL_PROVIDERS = frozenset({
    "anthropic", "anthropic_bedrock", "azure_ai", "azure_openai", "baseten", "bedrock", "bedrock_converse",
    "cohere", "deepseek", "fireworks", "google_anthropic_vertex", "google_genai", "google_vertexai", "groq",
    "huggingface", "ibm", "langsmith", "litellm", "meta", "mistralai", "nvidia", "ollama", "openai", "openrouter",
    "perplexity", "together", "upstage", "xai",
})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, case_sensitive=True)

    home: Path = Field(default=Path("~/.warmintro"), validation_alias="WARMINTRO_HOME")
    database_url: str | None = Field(
        default=None, validation_alias="WARMINTRO_DATABASE_URL"
    )

    # Model: any OpenAI-compatible endpoint. None configured -> deterministic engines + offline drafter.
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias="OPENAI_API_KEY"
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias="OPENAI_BASE_URL"
    )
    # WARMINTRO_MODEL may name its provider ("anthropic:claude-sonnet-4-5"), or WARMINTRO_MODEL_PROVIDER does;
    # a provider other than openai is built with langchain's init_chat_model (its package must be installed,
    # and reads its own key, e.g. ANTHROPIC_API_KEY). A name like "llama3.1:8b" (no known provider before
    # the colon) stays an OpenAI-compatible model name.
    model: str = Field(default="gpt-4o-mini", validation_alias="WARMINTRO_MODEL")
    model_provider: str | None = Field(default=None, validation_alias="WARMINTRO_MODEL_PROVIDER")
    model_timeout_s: float = Field(default=30.0, validation_alias="WARMINTRO_MODEL_TIMEOUT")

    # Slack
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias="SLACK_BOT_TOKEN"
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_SIGNING_SECRET"
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias="SLACK_APP_TOKEN"
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/", validation_alias="SLACK_API_URL"
    )
    # Slack's OAuth install flow (several workspaces; docs/deploy.md): on when the client id and secret are set.
    # Not SLACK_CLIENT_ID/SECRET: bolt's App() reads those itself and would switch to its own OAuth mode.
    slack_client_id: str | None = Field(default=None, validation_alias="WARMINTRO_SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(default=None, validation_alias="WARMINTRO_SLACK_CLIENT_SECRET")
    slack_scopes: str | None = Field(default=None, validation_alias="WARMINTRO_SLACK_SCOPES")  # comma-separated
    port: int = Field(default=3000, validation_alias="PORT")
    public_url: str | None = Field(
        default=None, validation_alias="WARMINTRO_PUBLIC_URL"
    )
    hook_secret: SecretStr | None = Field(
        default=None, validation_alias="WARMINTRO_HOOK_SECRET"
    )
    # Web pages (docs/web.md): the secret that signs approval and referrer links (no secret, no links), and
    # where a referrer's tracking link lands (default: the vendor's site from program.toml).
    link_secret: SecretStr | None = Field(
        default=None, validation_alias="WARMINTRO_LINK_SECRET"
    )
    landing_url: str | None = Field(
        default=None, validation_alias="WARMINTRO_LANDING_URL"
    )
    # Per-source signal-hook secrets, JSON {"source": "secret"} (a preset's name is its source); a source
    # without its own secret uses WARMINTRO_HOOK_SECRET.
    hook_secrets: dict[str, SecretStr] = Field(
        default_factory=dict, validation_alias="WARMINTRO_HOOK_SECRETS"
    )

    # Outgoing webhooks (docs/hooks.md, "Outgoing webhooks"): where events are POSTed, and the secret that
    # signs them (falls back to WARMINTRO_HOOK_SECRET). No URL -> events wait in the outbox, pending.
    webhook_url: str | None = Field(default=None, validation_alias="WARMINTRO_WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(default=None, validation_alias="WARMINTRO_WEBHOOK_SECRET")

    # Vectors: embedded PersistentClient under home by default; a Chroma server when a host is set.
    chroma_host: str | None = Field(default=None, validation_alias="CHROMA_HOST")
    chroma_port: int = Field(default=8000, validation_alias="CHROMA_PORT")
    chroma_ssl: bool = Field(default=False, validation_alias="CHROMA_SSL")
    # Email embeddings: the bundled offline all-MiniLM-L6-v2 by default; "openai" uses the OpenAI-compatible
    # embeddings endpoint (OPENAI_API_KEY / OPENAI_BASE_URL). A collection keeps the model it was built with.
    embeddings: Literal["minilm", "openai"] = Field(default="minilm", validation_alias="WARMINTRO_EMBEDDINGS")
    embedding_model: str = Field(default="text-embedding-3-small", validation_alias="WARMINTRO_EMBEDDING_MODEL")

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home_dir / 'warmintro.sqlite3'}"

    @property
    def chroma_path(self) -> Path:
        return self.home_dir / "chroma"

    @property
    def tiktoken_cache_dir(self) -> Path:
        return self.home_dir / "tiktoken"

    @property
    def model_provider_and_name(self) -> tuple[str, str]:
        """(provider, model name): WARMINTRO_MODEL_PROVIDER, else a known provider prefix of WARMINTRO_MODEL,
        else "openai" (any OpenAI-compatible endpoint)."""
        provider, name = (self.model_provider or "").strip().lower(), self.model.strip()
        head, sep, tail = name.partition(":")
        if sep and head.lower() in MODEL_PROVIDERS and (not provider or provider == head.lower()):
            provider, name = head.lower(), tail
        return provider or "openai", name

    @property
    def model_configured(self) -> bool:
        if self.model_provider_and_name[0] != "openai":
            return True  # the provider's own package reads its key (ANTHROPIC_API_KEY, ...)
        return self.openai_api_key is not None or self.openai_base_url is not None

    @property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://127.0.0.1:{self.port}").rstrip("/")
