from django.utils.functional import SimpleLazyObject


def residents_reach(request):
    """`reaches_residents`: whether the user's posts reach residents' records (chiefs' do not).

    Lazy: computed from the cached scope only on pages whose navigation asks.
    """
    def reaches():
        from .selectors import resident_scope

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        scope = resident_scope(user)
        return bool(scope.unrestricted or scope.spans)

    return {"reaches_residents": SimpleLazyObject(reaches)}
