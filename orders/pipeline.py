"""The rules of the order pipeline: which stage changes are legal and what each does to stock.

Pure functions of the order's state and the pipeline settings; ``orders.services`` applies the
plan through the stock services. The effects follow what the order really holds (its lines'
reserved and shipped quantities), not only its stage, so that changing the settings while
orders are under way never reserves or deducts twice.

    new → confirmed → shipped → delivered      forward only; skipping stages is allowed and
                                               applies every effect passed on the way
    any of those, before the deduction → cancelled (releases what is reserved)
    after the deduction → returned → return_restocked (enters the shipped quantities back)
    cancelled and return_restocked are final; repeating the current stage changes nothing.
"""

from dataclasses import dataclass

from .errors import (
    MSG_ILLEGAL_STAGE_CHANGE,
    WHY_ALREADY_DEDUCTED,
    WHY_BACKWARDS,
    WHY_CLOSED,
    WHY_NOT_RETURNED,
    WHY_NOTHING_DEDUCTED,
    IllegalStageChange,
)
from .models import FLOW, PipelineSettings, Stage

#: Stages an order may be created at (the effects up to that stage are applied at once).
CREATION_STAGES = FLOW


@dataclass(frozen=True)
class OrderState:
    #: The current stage; "" for an order being created.
    stage: str
    #: The order holds a reservation (its lines' reserved quantities are > 0).
    reserved: bool = False
    #: The order's stock was deducted (its lines' shipped quantities are > 0).
    deducted: bool = False
    restocked: bool = False


@dataclass(frozen=True)
class Plan:
    """The stock effects of one stage change, applied in this order."""

    reserve: bool = False
    deduct: bool = False
    release: bool = False
    restock: bool = False


def plan_stage_change(
    *, reference: str, state: OrderState, target: str, config: PipelineSettings
) -> Plan:
    """What moving an order in ``state`` to ``target`` does; raise ``IllegalStageChange`` when
    it cannot go there. ``target`` differs from the current stage (the caller handles repeats)."""
    current = state.stage

    def refuse(why: str) -> IllegalStageChange:
        return IllegalStageChange(
            MSG_ILLEGAL_STAGE_CHANGE
            % {"reference": reference, "current": current, "target": target, "why": why},
            details={"stage": current, "requested": target},
        )

    if current in (Stage.CANCELLED, Stage.RETURN_RESTOCKED):
        raise refuse(WHY_CLOSED)
    if current == Stage.RETURNED:
        if target == Stage.RETURN_RESTOCKED and state.deducted and not state.restocked:
            return Plan(restock=True)
        raise refuse(WHY_CLOSED if not state.deducted else WHY_BACKWARDS)

    if target in FLOW:
        # "" is an order being created: even reaching "new" may reserve (reserve at new).
        if FLOW.index(target) <= (FLOW.index(current) if current else -1):
            raise refuse(WHY_BACKWARDS)
        deduct = config.deducts_at(target) and not state.deducted
        reserve = (config.reserves_at(target) or deduct) and not (state.reserved or state.deducted)
        return Plan(reserve=reserve, deduct=deduct)
    if not current:
        raise refuse(WHY_BACKWARDS)  # orders are created in the forward flow only
    if target == Stage.CANCELLED or (target == Stage.RETURNED and not state.deducted):
        if state.deducted:
            raise refuse(WHY_ALREADY_DEDUCTED)
        if not config.releases_at(target):
            raise refuse(WHY_NOTHING_DEDUCTED)
        return Plan(release=state.reserved)
    if target == Stage.RETURNED:
        return Plan()
    if target == Stage.RETURN_RESTOCKED:
        if not state.deducted:
            raise refuse(WHY_NOT_RETURNED)
        return Plan(restock=True)
    raise refuse(WHY_BACKWARDS)  # pragma: no cover - every Stage is handled above


def next_stages(*, reference: str, state: OrderState, config: PipelineSettings) -> list[str]:
    """The stages the order may move to now, in the pipeline's order."""
    allowed = []
    for stage in Stage.values:
        if stage == state.stage:
            continue
        try:
            plan_stage_change(reference=reference, state=state, target=stage, config=config)
        except IllegalStageChange:
            continue
        allowed.append(stage)
    return allowed
