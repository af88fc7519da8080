"""Template access to the current membership."""


def current_organisation(request):
    membership = getattr(request, "membership", None)
    if membership is None or not membership:
        return {"membership": None, "organisation": None}
    return {"membership": membership, "organisation": membership.organisation}
