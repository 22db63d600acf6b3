"""HTTP client for SpeechKit v3 asynchronous recognition (see docs/yandex-speechkit.md).

Start -> poll the operation (backoff) -> fetch the result stream -> delete it on Yandex's
side. 429, 5xx, timeouts and network errors are retried with exponential backoff and
jitter, honouring Retry-After; 401/403 and 400 are final. Credentials are sent, never logged.
"""

from __future__ import annotations

import base64
import logging
import random
import time
import uuid
from dataclasses import dataclass

import httpx

from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.engines.yandex.errors import (
    YandexAuthError,
    YandexError,
    YandexQuotaError,
    YandexRejectedInput,
    YandexUnavailable,
)
from kazru_stt.job_metrics import YANDEX_REQUESTS

log = logging.getLogger(__name__)

# google.rpc.Code values worth re-submitting: RESOURCE_EXHAUSTED, INTERNAL, UNAVAILABLE.
RETRYABLE_OPERATION_CODES = {8, 13, 14}


@dataclass
class YandexConfig:
    api_key: str | None = None
    iam_token: str | None = None
    folder_id: str | None = None
    stt_url: str = "https://stt.api.cloud.yandex.net"
    operation_url: str = "https://operation.api.cloud.yandex.net"
    model: str = "general"
    max_attempts: int = 5
    retry_base_s: float = 0.5
    retry_max_s: float = 20.0
    poll_initial_s: float = 1.0
    poll_max_s: float = 30.0
    timeout_s: float = 60.0
    operation_timeout_s: float = 4 * 3600.0

    def headers(self, request_id: str) -> dict[str, str]:
        if self.api_key:
            auth = f"Api-Key {self.api_key}"
        elif self.iam_token:
            auth = f"Bearer {self.iam_token}"
        else:
            raise YandexAuthError(
                "no Yandex credentials: set KAZRU_YANDEX_API_KEY or KAZRU_YANDEX_IAM_TOKEN"
            )
        headers = {"Authorization": auth, "x-client-request-id": request_id}
        if self.folder_id:
            headers["x-folder-id"] = self.folder_id
        return headers


class YandexClient:
    def __init__(self, config: YandexConfig, http: httpx.Client | None = None):
        self.config = config
        self.http = http or httpx.Client(timeout=config.timeout_s)
        self.request_id = str(uuid.uuid4())

    # --- transport with retries ---
    def _request(self, method: str, url: str, **kwargs) -> httpx.Response:
        try:
            response = self._attempts(method, url, **kwargs)
        except YandexError:
            YANDEX_REQUESTS.labels("failed").inc()
            raise
        YANDEX_REQUESTS.labels("ok").inc()
        return response

    def _attempts(self, method: str, url: str, **kwargs) -> httpx.Response:
        cfg = self.config
        last: str = ""
        for attempt in range(cfg.max_attempts):
            try:
                response = self.http.request(
                    method, url, headers=cfg.headers(self.request_id), **kwargs
                )
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                last = f"{type(exc).__name__}"
                delay = self._backoff(attempt, None)
            else:
                status = response.status_code
                if status < 400:
                    return response
                if status in (401, 403):
                    raise YandexAuthError(
                        f"Yandex refused the credentials (HTTP {status}); check the key and the "
                        "ai.speechkit-stt.user role"
                    )
                if status == 400:
                    raise YandexRejectedInput(f"Yandex rejected the request: {_message(response)}")
                if status == 404:
                    raise YandexError(
                        f"Yandex does not know this request: {_message(response)}",
                        code=ErrorCode.ENGINE_NOT_FOUND,
                    )
                if status != 429 and status < 500:
                    raise YandexError(f"Yandex answered HTTP {status}: {_message(response)}")
                last = f"HTTP {status}"
                delay = self._backoff(attempt, response.headers.get("Retry-After"))
            if attempt + 1 < cfg.max_attempts:
                YANDEX_REQUESTS.labels("retried").inc()
                log.info(
                    "yandex %s %s failed (%s); retry in %.2f s",
                    method,
                    url.split("?")[0],
                    last,
                    delay,
                )
                time.sleep(delay)
        if last == "HTTP 429":
            raise YandexQuotaError(
                f"Yandex kept answering 429 (quota or rate limit) after {cfg.max_attempts} attempts"
            )
        raise YandexUnavailable(
            f"Yandex SpeechKit unavailable after {cfg.max_attempts} attempts ({last})"
        )

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        cfg = self.config
        if retry_after:
            try:
                return min(float(retry_after), cfg.retry_max_s)
            except ValueError:
                pass
        return min(cfg.retry_max_s, cfg.retry_base_s * 2**attempt) * random.uniform(0.5, 1.0)

    # --- API calls ---
    def start(
        self,
        audio: bytes,
        *,
        container: str | None,
        raw_rate: int | None = None,
        channels: int = 1,
        languages: list[str] | None = None,
        speaker_labeling: bool = False,
    ) -> str:
        if container:
            audio_format = {"containerAudio": {"containerAudioType": container}}
        else:
            audio_format = {
                "rawAudio": {
                    "audioEncoding": "LINEAR16_PCM",
                    "sampleRateHertz": str(raw_rate),
                    "audioChannelCount": str(channels),
                }
            }
        model: dict = {
            "model": self.config.model,
            "audioFormat": audio_format,
            "textNormalization": {
                "textNormalization": "TEXT_NORMALIZATION_ENABLED",
                "profanityFilter": False,
                "literatureText": True,
            },
            "audioProcessingType": "FULL_DATA",
        }
        if languages:
            model["languageRestriction"] = {
                "restrictionType": "WHITELIST",
                "languageCode": languages,
            }
        body: dict = {"content": base64.b64encode(audio).decode("ascii"), "recognitionModel": model}
        if speaker_labeling:
            body["speakerLabeling"] = {"speakerLabeling": "SPEAKER_LABELING_ENABLED"}
        r = self._request("POST", f"{self.config.stt_url}/stt/v3/recognizeFileAsync", json=body)
        op = r.json()
        if not op.get("id"):
            raise YandexError("Yandex returned no operation id", code=ErrorCode.ENGINE_BAD_RESPONSE)
        return op["id"]

    def wait(self, operation_id: str, progress=None) -> None:
        cfg = self.config
        delay, deadline = cfg.poll_initial_s, time.monotonic() + cfg.operation_timeout_s
        while True:
            op = self._request("GET", f"{cfg.operation_url}/operations/{operation_id}").json()
            if op.get("done"):
                error = op.get("error")
                if error:
                    code = int(error.get("code", 2))
                    message = error.get("message", "")
                    if code in RETRYABLE_OPERATION_CODES:
                        raise YandexUnavailable(f"Yandex operation failed ({code}): {message}")
                    if code == 3:
                        raise YandexRejectedInput(f"Yandex rejected the audio: {message}")
                    if code in (7, 16):
                        raise YandexAuthError(f"Yandex refused the operation: {message}")
                    raise YandexError(f"Yandex operation failed ({code}): {message}")
                return
            if time.monotonic() > deadline:
                raise YandexUnavailable("Yandex did not finish the recognition in time")
            if progress:
                progress()
            time.sleep(delay)
            delay = min(delay * 2, cfg.poll_max_s)

    def results(self, operation_id: str) -> str:
        r = self._request(
            "GET",
            f"{self.config.stt_url}/stt/v3/getRecognition",
            params={"operationId": operation_id},
        )
        return r.text

    def delete(self, operation_id: str) -> None:
        try:
            self._request(
                "DELETE",
                f"{self.config.stt_url}/stt/v3/deleteRecognition",
                params={"operationId": operation_id},
            )
        except YandexError as exc:  # privacy best effort: the results expire on their own
            log.warning("could not delete Yandex results %s: %s", operation_id, exc.code)

    def close(self) -> None:
        self.http.close()


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
        return str(body.get("message") or body.get("error") or body)[:300]
    except ValueError:
        return response.text[:300]
