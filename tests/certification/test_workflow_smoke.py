from certification.models import Application
from certification.transitions import Action
from tests.certification.workflow_fixtures import act


def test_the_whole_chain(
    submitted, owner, nanming_official, guiyang_official, province_reviewer, province_approver, experts
):
    from certification import workflow

    S = Application.State
    app = submitted
    assert app.state == S.SUBMITTED and app.current_region.code == "520102"
    app = act(app, Action.RETURN, nanming_official, opinion="补充材料")
    assert app.state == S.RETURNED
    app = act(app, Action.RESUBMIT, owner)
    app = act(app, Action.RECOMMEND, nanming_official, opinion="同意")
    assert app.level == "prefecture" and app.current_region.code == "520100"
    app = act(app, Action.RECOMMEND, guiyang_official, opinion="同意")
    assert app.level == "province"
    for e in experts:
        a = workflow.expert_assign(application=app, expert=e, by=province_reviewer)
        workflow.expert_score(
            assignment=a,
            by=e,
            scores={"specialisation": 20, "refinement": 20, "distinctiveness": 15, "innovation": 25},
            opinion="好",
        )
    app = act(app, Action.APPROVE, province_approver, opinion="批准")
    assert app.state == S.APPROVED
    assert app.snapshots.count() == 2
