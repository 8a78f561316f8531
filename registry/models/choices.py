from django.db import models


class Role(models.TextChoices):
    SURGEON = "surgeon", "Surgeon"
    COORDINATOR = "coordinator", "Research coordinator"
    SITE_ADMIN = "site_admin", "Site administrator"


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"


class Smoking(models.TextChoices):
    NEVER = "never", "Never"
    FORMER = "former", "Former"
    CURRENT = "current", "Current"


class OsteoporosisTreatment(models.TextChoices):
    NONE = "none", "None"
    CALCIUM_VITAMIN_D = "calcium_vitamin_d", "Calcium / vitamin D only"
    BISPHOSPHONATE = "bisphosphonate", "Bisphosphonate"
    DENOSUMAB = "denosumab", "Denosumab"
    TERIPARATIDE = "teriparatide", "Teriparatide / abaloparatide"
    ROMOSOZUMAB = "romosozumab", "Romosozumab"
    OTHER = "other", "Other"


class Imaging(models.TextChoices):
    MRI = "mri", "MRI"
    CT = "ct", "CT"
    XRAY = "xray", "X-ray"
    BONE_SCAN = "bone_scan", "Bone scan"


class Morphology(models.TextChoices):
    WEDGE = "wedge", "Wedge"
    BICONCAVE = "biconcave", "Biconcave"
    CRUSH = "crush", "Crush"


class Aetiology(models.TextChoices):
    OSTEOPOROTIC = "osteoporotic", "Osteoporotic"
    TUMOUR = "tumour", "Pathological: tumour"
    INFECTION = "infection", "Pathological: infection"


class Approach(models.TextChoices):
    UNIPEDICULAR = "unipedicular", "Unipedicular"
    BIPEDICULAR = "bipedicular", "Bipedicular"


class Route(models.TextChoices):
    TRANSPEDICULAR = "transpedicular", "Transpedicular"
    EXTRAPEDICULAR = "extrapedicular", "Extrapedicular"


class Anaesthesia(models.TextChoices):
    LOCAL = "local", "Local"
    SPINAL = "spinal", "Spinal"
    GENERAL = "general", "General"


class Leakage(models.TextChoices):
    """Yeom classification of cement leakage."""

    NONE = "none", "None"
    B = "B", "B: basivertebral vein"
    S = "S", "S: segmental vein"
    C = "C", "C: cortical defect"


class LeakageLocation(models.TextChoices):
    PARAVERTEBRAL = "paravertebral", "Paravertebral"
    INTRADISCAL = "intradiscal", "Intradiscal"
    EPIDURAL = "epidural", "Epidural / spinal canal"
    FORAMINAL = "foraminal", "Foraminal"


class LeakageSeenOn(models.TextChoices):
    XRAY = "xray", "X-ray"
    CT = "ct", "CT"


class AdverseEventType(models.TextChoices):
    NEUROLOGICAL_INJURY = "neurological_injury", "Neurological injury"
    CANAL_COMPRESSION = "canal_compression", "Spinal canal compression"
    INFECTION = "infection", "Infection"
    BLEEDING = "bleeding", "Continuous bleeding / haematoma"
    CEMENT_REACTION = "cement_reaction", "Cement allergy / implantation syndrome"
    PULMONARY_EMBOLISM = "pulmonary_embolism", "Pulmonary cement embolism"
    ADJACENT_FRACTURE = "adjacent_fracture", "Adjacent vertebral fracture"
    REFRACTURE = "refracture", "Refracture / recollapse of a treated vertebra"
    CEMENT_DISPLACEMENT = "cement_displacement", "Cement displacement"
    OTHER = "other", "Other"


class ClavienDindo(models.TextChoices):
    I = "I", "I"  # noqa: E741 - the grade's own name
    II = "II", "II"
    III = "III", "III"
    IV = "IV", "IV"
    V = "V", "V"


class TimepointChoice(models.TextChoices):
    BASELINE = "baseline", "Baseline (pre-operative)"
    WEEK_2 = "2w", "2 weeks"
    WEEK_12 = "12w", "12 weeks"
    YEAR_1 = "1y", "1 year"
    UNSCHEDULED = "unscheduled", "Unscheduled"


class Analgesics(models.TextChoices):
    NONE = "none", "None"
    NON_OPIOID = "non_opioid", "Paracetamol / NSAID"
    WEAK_OPIOID = "weak_opioid", "Weak opioid"
    STRONG_OPIOID = "strong_opioid", "Strong opioid"


class FilmPosition(models.TextChoices):
    STANDING = "standing", "Standing"
    SUPINE = "supine", "Supine"
