"""The model factory's provider choice (OpenAI-compatible by default, init_chat_model for the others, a typed
ConfigError when a provider's package is missing), and the optional OpenAI embeddings, all without network."""

from __future__ import annotations

import importlib.util
import json

import httpx
import numpy as np
import pytest

from agent.models import make_chat_model
from warmintro.errors import ConfigError
from warmintro.settings import Settings


def test_openai_compatible_stays_the_default():
    from langchain_openai import ChatOpenAI

    assert make_chat_model(Settings()) is None  # nothing configured: offline
    settings = Settings(OPENAI_BASE_URL="http://llm.local/v1", WARMINTRO_MODEL="llama3.1:8b")  # type: ignore[call-arg]
    assert settings.model_provider_and_name == ("openai", "llama3.1:8b")  # an Ollama tag, not a provider
    model = make_chat_model(settings)
    assert isinstance(model, ChatOpenAI) and model.model_name == "llama3.1:8b"


@pytest.mark.parametrize(("env", "expected"), [
    ({"WARMINTRO_MODEL": "anthropic:claude-sonnet-4-5"}, ("anthropic", "claude-sonnet-4-5")),
    ({"WARMINTRO_MODEL_PROVIDER": "Anthropic", "WARMINTRO_MODEL": "claude-sonnet-4-5"}, ("anthropic", "claude-sonnet-4-5")),
    ({"WARMINTRO_MODEL": "openai:gpt-4o"}, ("openai", "gpt-4o")),
    ({"WARMINTRO_MODEL": "gpt-4o-mini"}, ("openai", "gpt-4o-mini")),
])
def test_provider_from_settings(env, expected):
    settings = Settings(**env)
    assert settings.model_provider_and_name == expected
    assert settings.model_configured is (expected[0] != "openai")  # openai still needs a key or a base URL


@pytest.mark.skipif(importlib.util.find_spec("langchain_anthropic") is not None, reason="langchain-anthropic installed")
def test_a_missing_provider_package_is_a_config_error():
    with pytest.raises(ConfigError, match=r"langchain_anthropic.*pip install langchain-anthropic"):
        make_chat_model(Settings(WARMINTRO_MODEL="anthropic:claude-sonnet-4-5"))  # type: ignore[call-arg]


def test_an_unknown_provider_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown model provider 'nosuch'"):
        make_chat_model(Settings(WARMINTRO_MODEL_PROVIDER="nosuch"))  # type: ignore[call-arg]


def test_init_chat_model_provider_answers_through_its_client(monkeypatch):
    """azure_openai ships with langchain-openai: the init_chat_model path end to end, faked at HTTP."""
    from langchain_core.messages import HumanMessage

    seen: list[httpx.Request] = []

    def endpoint(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={
            "id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})

    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "k")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://example.openai.azure.com")
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    settings = Settings(WARMINTRO_MODEL="azure_openai:my-deployment")  # type: ignore[call-arg]
    model = make_chat_model(settings, azure_deployment="my-deployment",
                            http_client=httpx.Client(transport=httpx.MockTransport(endpoint)))
    assert type(model).__name__ == "AzureChatOpenAI"
    answer = model.invoke([HumanMessage("hello")])
    assert answer.content == "hi" and answer.usage_metadata["input_tokens"] == 3
    assert "/openai/deployments/my-deployment/chat/completions" in str(seen[0].url)


def test_a_provider_rejecting_its_settings_is_a_config_error(monkeypatch):
    for var in ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "OPENAI_API_VERSION", "AZURE_OPENAI_AD_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigError, match="azure_openai"):
        make_chat_model(Settings(WARMINTRO_MODEL="azure_openai:x"))  # type: ignore[call-arg]


# -- embeddings ----------------------------------------------------------------------------------------


class EmbeddingsEndpoint:
    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.headers: list[httpx.Headers] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/embeddings")
        body = json.loads(request.content)
        self.bodies.append(body)
        self.headers.append(request.headers)
        # deterministic vectors: (len(text), 1, 0), answered out of order as the API may
        data = [{"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0, 0.0]}
                for i, t in enumerate(body["input"])]
        return httpx.Response(200, json={"object": "list", "data": list(reversed(data)), "model": body["model"]})


def test_embeddings_default_to_the_offline_minilm():
    from vectorstore.embeddings import MiniLMEmbeddingFunction, make_embedding_function

    assert Settings().embeddings == "minilm"
    assert isinstance(make_embedding_function(Settings()), MiniLMEmbeddingFunction)


def test_openai_embeddings_through_a_mock_transport(tmp_path):
    from chromadb.utils.embedding_functions import known_embedding_functions

    from vectorstore.client import EmailIndex, make_chroma_client
    from vectorstore.embeddings import OpenAIEmbeddingFunction, make_embedding_function

    settings = Settings(WARMINTRO_EMBEDDINGS="openai", WARMINTRO_EMBEDDING_MODEL="text-embedding-3-small",  # type: ignore[call-arg]
                        OPENAI_API_KEY="sk-test", OPENAI_BASE_URL="http://emb.local/v1")
    ef = make_embedding_function(settings)
    assert isinstance(ef, OpenAIEmbeddingFunction)
    assert ef.base_url == "http://emb.local/v1" and ef.api_key == "sk-test"
    assert known_embedding_functions[OpenAIEmbeddingFunction.name()] is OpenAIEmbeddingFunction
    endpoint = EmbeddingsEndpoint()
    ef._transport = httpx.MockTransport(endpoint)
    ef.batch_size = 2
    vectors = ef(["abc", "a", ""])
    assert len(vectors) == 3 and len(endpoint.bodies) == 2  # batched
    assert endpoint.bodies[0]["model"] == "text-embedding-3-small" and endpoint.bodies[1]["input"] == [" "]
    assert endpoint.headers[0]["authorization"] == "Bearer sk-test"
    np.testing.assert_allclose(vectors[0], np.array([3.0, 1.0, 0.0]) / np.sqrt(10), rtol=1e-6)  # unit length
    np.testing.assert_allclose(vectors[1], np.array([1.0, 1.0, 0.0]) / np.sqrt(2), rtol=1e-6)
    config = ef.get_config()
    assert "sk-test" not in json.dumps(config)  # the key is never persisted with a collection
    assert OpenAIEmbeddingFunction.build_from_config(config).model == "text-embedding-3-small"

    index = EmailIndex(make_chroma_client(tmp_path / "chroma"), collection="openai_emb", embedding_function=ef)
    index.upsert([{"id": "m1", "text": "hello there", "metadata": {"author": "a@x.example"}},
                  {"id": "m2", "text": "hi", "metadata": {"author": "a@x.example"}}])
    assert index.count() == 2
    assert [h.id for h in index.query("hello there", k=1)] == ["m1"]


def test_openai_embeddings_errors_are_raised():
    from vectorstore.embeddings import OpenAIEmbeddingFunction

    ef = OpenAIEmbeddingFunction(api_key="k", base_url="http://emb.local/v1",
                                 transport=httpx.MockTransport(lambda r: httpx.Response(401, json={"error": "no"})))
    with pytest.raises(RuntimeError, match="401"):
        ef(["x"])


def test_the_products_email_index_uses_the_chosen_embeddings_in_a_collection_of_their_own(tmp_path):
    from vectorstore.embeddings import MiniLMEmbeddingFunction, OpenAIEmbeddingFunction
    from warmintro.voice.index import open_email_index

    offline = open_email_index(Settings(WARMINTRO_HOME=str(tmp_path)))  # type: ignore[call-arg]
    assert isinstance(offline._ef, MiniLMEmbeddingFunction) and offline.collection.name == "warmintro_emails"
    chosen = open_email_index(Settings(WARMINTRO_HOME=str(tmp_path), WARMINTRO_EMBEDDINGS="openai",  # type: ignore[call-arg]
                                       WARMINTRO_EMBEDDING_MODEL="text-embedding-3-small", OPENAI_API_KEY="sk-test"))
    assert isinstance(chosen._ef, OpenAIEmbeddingFunction)
    assert chosen.collection.name == "warmintro_emails_openai_text_embedding_3_small"
