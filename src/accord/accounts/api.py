"""Endpoints for the signed-in user and their personal API tokens."""

from ninja import Path, Router
from ninja.pagination import paginate
from ninja.responses import Status

from accord.accounts import selectors, services
from accord.accounts.schemas import (
    MAX_ID,
    MeOut,
    Page,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
)

router = Router(tags=["me"])


@router.get("/me", response=MeOut)
def me(request):
    """Show who the token or session belongs to, and what their role allows."""
    user = request.user
    return MeOut(
        id=user.pk,
        username=user.username,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        role=user.role,
        team=user.team,
        actions=selectors.allowed_actions(user=user),
    )


@router.get("/tokens", response=list[TokenOut])
@paginate(Page)
def list_tokens(request):
    """List your own API tokens, newest first; secrets are never shown again."""
    return selectors.tokens_manageable_by(user=request.user)


@router.post("/tokens", response={201: TokenCreatedOut})
def create_token(request, payload: TokenIn):
    """Issue a personal API token; the response holds its secret, shown this once."""
    token, secret = services.issue_own_api_token(
        user=request.user, name=payload.name, expires_at=payload.expires_at
    )
    token.token = secret
    return Status(201, token)


@router.delete("/tokens/{token_id}", response=TokenOut)
def revoke_token(request, token_id: int = Path(..., ge=1, le=MAX_ID)):
    """Revoke one of your tokens: requests with it are refused from now on."""
    token = selectors.token_for(user=request.user, token_id=token_id)
    return services.revoke_own_api_token(user=request.user, token=token)
