"""The application workflow in one table: state × action → next state, and who may take the action.

design.md "Application workflow". Every state change goes through
`certification.review.application_act`, which reads this table; a move that is
not in it is refused with the reason. Tests walk the whole table.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from certification.models import Application, Level
from portal.models import Post

S = Application.State
R = Post.Role


class Actor:
    ENTERPRISE = "enterprise"  # a member of the applicant enterprise
    OFFICIAL = "official"  # a reviewer posted at the region the application waits at
    SYSTEM = "system"


class Action:
    SUBMIT = "submit"
    RESUBMIT = "resubmit"
    WITHDRAW = "withdraw"
    RETURN = "return"
    REJECT = "reject"
    RECOMMEND = "recommend"
    APPROVE = "approve"
    # Taken by the publication services (certification.publication), not by a reviewer's button.
    NOTICE = "notice"
    OBJECTION_UPHELD = "objection_upheld"
    PUBLISH = "publish"


ACTION_LABELS = {
    Action.SUBMIT: _("submit"),
    Action.RESUBMIT: _("resubmit"),
    Action.WITHDRAW: _("withdraw"),
    Action.RETURN: _("return for correction"),
    Action.REJECT: _("reject"),
    Action.RECOMMEND: _("recommend"),
    Action.APPROVE: _("approve"),
    Action.NOTICE: _("listed in the public notice"),
    Action.OBJECTION_UPHELD: _("objection upheld"),
    Action.PUBLISH: _("certified"),
    "start": _("draft started"),
    "assign_expert": _("assign expert"),
    "unassign_expert": _("expert withdrawn"),
    "expert_score": _("expert scores"),
}

# Which post roles act at each level. The owner level of a prefecture-owned programme
# (Lhasa, Bortala) is run by the prefecture's reviewers; the province splits review and approval.
REVIEW_ROLES = {
    Level.COUNTY: {R.COUNTY_REVIEWER},
    Level.PREFECTURE: {R.PREFECTURE_REVIEWER},
    Level.PROVINCE: {R.PROVINCIAL_REVIEWER, R.PROVINCIAL_APPROVER},
}
APPROVE_ROLES = {
    Level.COUNTY: {R.COUNTY_REVIEWER},
    Level.PREFECTURE: {R.PREFECTURE_REVIEWER},
    Level.PROVINCE: {R.PROVINCIAL_APPROVER},
}


@dataclass(frozen=True)
class Transition:
    state: str
    action: str
    target: str  # "next level" targets are resolved by the workflow: see `application_act`
    actor: str
    needs_reason: bool = False
    final_level: bool | None = None  # True: only at the chain's last level; False: never there; None: any
    roles: str = ""  # "review" or "approve" for officials: which role set of the level may act


TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.DRAFT, Action.SUBMIT, S.SUBMITTED, Actor.ENTERPRISE),
    Transition(S.DRAFT, Action.WITHDRAW, S.WITHDRAWN, Actor.ENTERPRISE),
    Transition(S.RETURNED, Action.RESUBMIT, S.SUBMITTED, Actor.ENTERPRISE),
    Transition(S.RETURNED, Action.WITHDRAW, S.WITHDRAWN, Actor.ENTERPRISE),
    # Withdrawal is allowed only before the first decision: the workflow checks the history.
    Transition(S.SUBMITTED, Action.WITHDRAW, S.WITHDRAWN, Actor.ENTERPRISE),
    *(
        t
        for state in (S.SUBMITTED, S.IN_REVIEW)
        for t in (
            Transition(state, Action.RETURN, S.RETURNED, Actor.OFFICIAL, needs_reason=True, roles="review"),
            Transition(state, Action.REJECT, S.REJECTED, Actor.OFFICIAL, needs_reason=True, roles="review"),
            Transition(
                state, Action.RECOMMEND, S.IN_REVIEW, Actor.OFFICIAL, final_level=False, roles="review"
            ),
            Transition(state, Action.APPROVE, S.APPROVED, Actor.OFFICIAL, final_level=True, roles="approve"),
        )
    ),
)

# The public notice and publication (design.md: approve → in_notice → objection upheld → rejected;
# notice closes → published). Provincial staff act through certification.publication, which checks them.
PUBLICATION_TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.APPROVED, Action.NOTICE, S.IN_NOTICE, Actor.SYSTEM),
    Transition(S.IN_NOTICE, Action.OBJECTION_UPHELD, S.REJECTED, Actor.SYSTEM, needs_reason=True),
    Transition(S.IN_NOTICE, Action.PUBLISH, S.PUBLISHED, Actor.SYSTEM),
)
TRANSITIONS = (*TRANSITIONS, *PUBLICATION_TRANSITIONS)

TABLE: dict[tuple[str, str], Transition] = {(t.state, t.action): t for t in TRANSITIONS}
ENTERPRISE_ACTIONS = (Action.SUBMIT, Action.RESUBMIT, Action.WITHDRAW)
OFFICIAL_ACTIONS = (Action.RETURN, Action.REJECT, Action.RECOMMEND, Action.APPROVE)
ALL_ACTIONS = (*ENTERPRISE_ACTIONS, *OFFICIAL_ACTIONS)
PUBLICATION_ACTIONS = (Action.NOTICE, Action.OBJECTION_UPHELD, Action.PUBLISH)

# What the applicant sees of the history, on its pages and in the API: every decision on it, but not who
# reviews it or what experts scored. An allow-list, so that event kinds added later stay out until decided.
MEMBER_TIMELINE = ("start", *ENTERPRISE_ACTIONS, *OFFICIAL_ACTIONS, *PUBLICATION_ACTIONS)


def transition_for(state: str, action: str) -> Transition | None:
    return TABLE.get((state, action))


def roles_for(transition: Transition, level: str) -> set[str]:
    table = APPROVE_ROLES if transition.roles == "approve" else REVIEW_ROLES
    return table.get(level, set())
