from tests.factories import RadiographFactory


def test_factories_build_a_consistent_case(db):
    radiograph = RadiographFactory()
    assert radiograph.rfvh_percent is not None
    assert radiograph.treated_level.procedure_id == radiograph.visit.procedure_id
