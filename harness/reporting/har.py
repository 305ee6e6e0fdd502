"""HAR 1.2 (HTTP Archive) from the recorder's exchanges, for browser dev tools and HAR viewers; redacted as recorded."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import harness

HAR_FILE = "evidence.har"
SCHEMA = "har"


def _pairs(headers: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in headers.items()]


def _mime(headers: dict[str, str], default: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == "content-type"), default)


def _text(body: Any) -> str | None:
    # Bodies are kept parsed (JSON) or as text; HAR wants the text, so JSON is written back out.
    if body is None:
        return None
    return body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)


def _status_text(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _http_version(exchange: dict[str, Any]) -> str:
    return str(exchange.get("http_version") or "HTTP/1.1")


def entry(exchange: dict[str, Any]) -> dict[str, Any]:
    request, response = exchange["request"], exchange["response"]
    request_text, response_text = _text(request["body"]), _text(response["body"])
    time_ms = float(exchange.get("time_ms") or 0.0)
    har_request: dict[str, Any] = {
        "method": exchange["method"],
        "url": exchange["url"],
        "httpVersion": _http_version(exchange),
        "cookies": [],  # cookie headers are redacted whole; there is nothing left to itemise
        "headers": _pairs(request["headers"]),
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(exchange["url"]).query)],
        "headersSize": -1,
        "bodySize": len(request_text.encode("utf-8")) if request_text is not None else 0,
    }
    if request_text is not None:
        har_request["postData"] = {"mimeType": _mime(request["headers"], "application/json"), "text": request_text}
    content: dict[str, Any] = {
        "size": len(response_text.encode("utf-8")) if response_text is not None else 0,
        "mimeType": _mime(response["headers"], "application/octet-stream"),
    }
    if response_text is not None:
        content["text"] = response_text
    return {
        "startedDateTime": exchange.get("started_at") or "1970-01-01T00:00:00+00:00",
        "time": time_ms,
        "request": har_request,
        "response": {
            "status": exchange["status"],
            "statusText": _status_text(exchange["status"]),
            "httpVersion": _http_version(exchange),
            "cookies": [],
            "headers": _pairs(response["headers"]),
            "content": content,
            "redirectURL": next((v for k, v in response["headers"].items() if k.lower() == "location"), ""),
            "headersSize": -1,
            "bodySize": content["size"],
        },
        "cache": {},
        "timings": {"send": 0, "wait": time_ms, "receive": 0},
        "comment": exchange.get("check") or "",
        "_seq": exchange["seq"],
        "_check": exchange.get("check"),
        **({"_retried": exchange["retried"]} if "retried" in exchange else {}),
        **({"_error": exchange["error"]} if "error" in exchange else {}),
    }


def build_har(exchanges: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "p111", "version": harness.__version__},
            "entries": [entry(e) for e in exchanges],
            "comment": "Đã che thông tin bí mật và thông tin cá nhân / secrets and personal data redacted",
        }
    }
