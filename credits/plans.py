"""The built-in subscription plans, as data: made by a migration and re-made for
tests that empty the tables. Staff change their names and amounts in the admin; these
rows only say what a fresh installation starts with."""

from dataclasses import dataclass

DEFAULT_PLAN_CODE = "free"


@dataclass(frozen=True)
class BuiltinPlan:
    code: str
    name: str
    position: int
    # None: the defaults (the tenant's `default_credits`, else DEFAULT_USER_CREDITS and
    # DEFAULT_USER_LIMITS), so the free plan follows those settings.
    main_reset: int | None
    conversation_reset: int | None
    description: str = ""


BUILTIN_PLANS = (
    BuiltinPlan(
        DEFAULT_PLAN_CODE, "Free", 0, None, None, "The defaults of the tenant or the service."
    ),
    BuiltinPlan("basic", "Basic", 10, 50, 100),
    BuiltinPlan("premium", "Premium", 20, 200, 500),
    BuiltinPlan("enterprise", "Enterprise", 30, 1000, 5000),
)


def ensure_builtin_plans(plan_model) -> None:
    """Create the built-in plans that are missing; existing rows are left as staff
    made them. Takes the model so that migrations can pass their historical one."""
    for plan in BUILTIN_PLANS:
        plan_model.objects.get_or_create(
            code=plan.code,
            defaults={
                "name": plan.name,
                "description": plan.description,
                "position": plan.position,
                "main_reset": plan.main_reset,
                "conversation_reset": plan.conversation_reset,
                "is_active": True,
            },
        )
