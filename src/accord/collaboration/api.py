"""Endpoints for feedback threads: read and reply on sales' verdicts you may see."""

from ninja import Header, Path, Router
from ninja.responses import Status

from accord.accounts.schemas import MAX_ID
from accord.collaboration import selectors, services
from accord.collaboration.schemas import CommentIn, CommentOut
from accord.lifecycle.selectors import feedback_for

router = Router(tags=["feedback"])
_ID = {"ge": 1, "le": MAX_ID}
IdempotencyKey = Header(None, alias="Idempotency-Key", max_length=100,
                        description="Send the same key when retrying: the reply is posted once.")


@router.get("/feedback/{feedback_id}/comments", response=list[CommentOut])
def list_comments(request, feedback_id: int = Path(..., **_ID)):
    """List the thread on one piece of sales feedback, oldest first."""
    feedback = feedback_for(user=request.user, feedback_id=feedback_id)
    return list(selectors.comments_on(target=feedback)[:500])


@router.post("/feedback/{feedback_id}/comments", response={201: CommentOut})
def post_comment(request, payload: CommentIn, feedback_id: int = Path(..., **_ID),
                 idempotency_key: str | None = IdempotencyKey):
    """Reply on a feedback thread; the rep, the campaign's owner and earlier repliers are told."""
    feedback = feedback_for(user=request.user, feedback_id=feedback_id)
    comment = services.reply_to_feedback(author=request.user, feedback=feedback, body=payload.body,
                                         client_key=idempotency_key or "")
    return Status(201, comment)
