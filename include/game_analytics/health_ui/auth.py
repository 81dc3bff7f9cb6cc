"""Who may read the health page, its API, its runbooks and ``/metrics``, and the "Game KPIs" page and its JSON
(Airflow layer: runs in the api-server).

Airflow does not protect a plugin's FastAPI app: every route here depends on one of these. A user is who Airflow's
own API accepts (``security.get_user``: a bearer JWT, or the ``_token`` cookie the UI sets at login) and who may view
the website (the auth manager decides). The HTML pages send an anonymous browser to Airflow's login page and back;
the JSON API answers 401. A Prometheus scrape may instead present ``Authorization: Bearer <GA_METRICS_TOKEN>``
(the variable is read per request, compared in constant time, and an empty one accepts nothing); only
``GA_METRICS_ALLOW_ANONYMOUS=true`` lets ``/metrics`` answer anyone.
"""

from __future__ import annotations

import hmac
import os
from typing import Annotated

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
from airflow.api_fastapi.core_api.security import get_user
from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from game_analytics.config import load_settings

METRICS_TOKEN_VARIABLE = "GA_METRICS_TOKEN"
_bearer = HTTPBearer(auto_error=False)
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


class LoginRequired(Exception):
    """An anonymous browser asked for a page: the app answers with a redirect to Airflow's login."""

    def __init__(self, next_url: str):
        super().__init__(next_url)
        self.next_url = next_url


def login_url(next_url: str) -> str:
    return get_auth_manager().get_url_login(next_url=next_url)


async def redirect_to_login(_request: Request, exc: LoginRequired) -> RedirectResponse:
    """The exception handler an app that uses :func:`page_user` registers for :class:`LoginRequired`."""
    return RedirectResponse(login_url(exc.next_url), status_code=303)


async def airflow_user(request: Request, credentials: Bearer) -> BaseUser:
    """The Airflow user of this request (401 without credentials, 403 with a bad token or no website access)."""
    user = await get_user(request, None, credentials)
    if not get_auth_manager().is_authorized_view(access_view=AccessView.WEBSITE, user=user):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this user may not view Airflow's website")
    return user


async def page_user(request: Request, credentials: Bearer) -> BaseUser:
    """:func:`airflow_user`, but an anonymous (or expired) browser is sent to the login page instead of a 401."""
    try:
        return await airflow_user(request, credentials)
    except HTTPException as exc:
        if exc.status_code == status.HTTP_401_UNAUTHORIZED:
            raise LoginRequired(str(request.url)) from exc
        raise


def _is_metrics_token(credentials: HTTPAuthorizationCredentials | None) -> bool:
    expected = os.environ.get(METRICS_TOKEN_VARIABLE, "")
    if not expected or credentials is None or credentials.scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(credentials.credentials.encode(), expected.encode())


async def metrics_reader(request: Request, credentials: Bearer) -> str:
    """Who scrapes: ``"token"``, ``"anonymous"`` (only when the setting allows it) or the user's name."""
    if _is_metrics_token(credentials):
        return "token"
    if load_settings().metrics_allow_anonymous:
        return "anonymous"
    user = await airflow_user(request, credentials)
    return user.get_name()
