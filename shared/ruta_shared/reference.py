"""Reference data shared by every service: codes and their Spanish labels (one catalogue)."""

from __future__ import annotations

from typing import Final, Literal

Office = Literal["lima", "iquitos", "cusco", "madre_de_dios"]
OFFICES: Final[dict[str, str]] = {
    "lima": "Lima (sede central)",
    "iquitos": "Iquitos (Loreto)",
    "cusco": "Cusco",
    "madre_de_dios": "Madre de Dios (punto focal)",
}
OFFICE_CODES: Final[dict[str, str]] = {
    "lima": "LIM",
    "iquitos": "IQT",
    "cusco": "CUS",
    "madre_de_dios": "MDD",
}

# Peru's departments by INEI ubigeo code.
REGIONS: Final[dict[str, str]] = {
    "01": "Amazonas",
    "02": "Áncash",
    "03": "Apurímac",
    "04": "Arequipa",
    "05": "Ayacucho",
    "06": "Cajamarca",
    "07": "Callao",
    "08": "Cusco",
    "09": "Huancavelica",
    "10": "Huánuco",
    "11": "Ica",
    "12": "Junín",
    "13": "La Libertad",
    "14": "Lambayeque",
    "15": "Lima",
    "16": "Loreto",
    "17": "Madre de Dios",
    "18": "Moquegua",
    "19": "Pasco",
    "20": "Piura",
    "21": "Puno",
    "22": "San Martín",
    "23": "Tacna",
    "24": "Tumbes",
    "25": "Ucayali",
}
UBIGEO_PATTERN: Final = r"^(0[1-9]|1[0-9]|2[0-5])$"
# A region of origin is a Peruvian department or, for foreign victims, an ISO 3166-1 alpha-2 code.
REGION_OR_COUNTRY_PATTERN: Final = r"^((0[1-9]|1[0-9]|2[0-5])|[A-Z]{2})$"
COUNTRY_PATTERN: Final = r"^[A-Z]{2}$"

CrimeType = Literal[
    "trafficking",
    "csec",
    "forced_labour",
    "labour_exploitation",
    "child_labour",
    "migrant_smuggling",
    "missing_person",
]
CRIME_TYPES: Final[dict[str, str]] = {
    "trafficking": "Trata de personas",
    "csec": "Explotación sexual de niñas, niños y adolescentes (ESNNA)",
    "forced_labour": "Trabajo forzoso",
    "labour_exploitation": "Explotación laboral",
    "child_labour": "Trabajo infantil",
    "migrant_smuggling": "Tráfico ilícito de migrantes",
    "missing_person": "Persona desaparecida",
}

ExploitationPurpose = Literal[
    "sexual",
    "labour",
    "domestic_work",
    "begging",
    "forced_marriage",
    "criminal_activities",
    "organ_removal",
    "other",
]
EXPLOITATION_PURPOSES: Final[dict[str, str]] = {
    "sexual": "Explotación sexual",
    "labour": "Explotación laboral",
    "domestic_work": "Trabajo doméstico",
    "begging": "Mendicidad",
    "forced_marriage": "Matrimonio forzado",
    "criminal_activities": "Actividades delictivas",
    "organ_removal": "Extracción de órganos",
    "other": "Otra finalidad",
}

Sex = Literal["female", "male", "unknown"]
SEXES: Final[dict[str, str]] = {"female": "Mujer", "male": "Hombre", "unknown": "No informado"}

AgeGroup = Literal["minor", "adult", "unknown"]
AGE_GROUPS: Final[dict[str, str]] = {
    "minor": "Menor de edad",
    "adult": "Mayor de edad",
    "unknown": "Sin información",
}

InstitutionKind = Literal[
    "prosecutor",
    "public_defence",
    "child_protection",
    "shelter_car",
    "refuge_hrt",
    "cem",
    "police",
    "demuna",
    "health",
    "labour_inspection",
    "employment_programme",
    "pro_bono_lawyer",
    "ngo",
    "consulate",
]
INSTITUTION_KINDS: Final[dict[str, str]] = {
    "prosecutor": "Fiscalía (FISTRAP, fiscalías especializadas en trata de personas)",
    "public_defence": "Defensa pública (DGDPAJ)",
    "child_protection": "Protección de niñas, niños y adolescentes (UPE, MIMP)",
    "shelter_car": "Centro de Acogida Residencial (CAR)",
    "refuge_hrt": "Hogar de Refugio Temporal (HRT)",
    "cem": "Centro Emergencia Mujer (CEM)",
    "police": "Policía Nacional del Perú (PNP)",
    "demuna": "Defensoría Municipal del Niño y del Adolescente (DEMUNA)",
    "health": "Servicio de salud",
    "labour_inspection": "Inspección del trabajo",
    "employment_programme": "Programa de empleo (Impulsa Perú)",
    "pro_bono_lawyer": "Abogado pro bono",
    "ngo": "Organización no gubernamental",
    "consulate": "Consulado",
}

ArrivalChannel = Literal[
    "institution_referral",
    "hotline",
    "own_outreach",
    "walk_in",
]
ARRIVAL_CHANNELS: Final[dict[str, str]] = {
    "institution_referral": "Derivado por una institución",
    "hotline": "Línea 1818 u otra línea de denuncia",
    "own_outreach": "Intervención propia",
    "walk_in": "Acudió por su cuenta",
}

CareType = Literal[
    "legal",
    "psychological",
    "social",
    "health_access",
    "safe_housing",
    "basic_needs",
    "emergency_kit",
    "return_travel_funding",
    "reintegration_support",
]
CARE_TYPES: Final[dict[str, str]] = {
    "legal": "Atención legal",
    "psychological": "Atención psicológica",
    "social": "Atención social",
    "health_access": "Acceso a salud",
    "safe_housing": "Alojamiento seguro",
    "basic_needs": "Necesidades básicas",
    "emergency_kit": "Kit de emergencia",
    "return_travel_funding": "Financiamiento del retorno al lugar de origen",
    "reintegration_support": "Apoyo a la reintegración",
}

CaseStatus = Literal["open", "in_care", "closed"]
CASE_STATUSES: Final[dict[str, str]] = {
    "open": "Abierto",
    "in_care": "En atención",
    "closed": "Cerrado",
}

ConsentPurpose = Literal["data_processing", "disclosure"]
CONSENT_PURPOSES: Final[dict[str, str]] = {
    "data_processing": "Tratamiento de datos personales",
    "disclosure": "Comunicación de datos a una institución",
}


Urgency = Literal["low", "normal", "high", "critical"]

DeclineReason = Literal[
    "no_capacity", "not_competent", "victim_unreachable", "duplicate", "victim_declined", "other"
]

ReintegrationMilestone = Literal[
    "job_training",
    "employment",
    "entrepreneurship_plan_funded",
    "education",
    "follow_up_visit",
]
REINTEGRATION_MILESTONES: Final[dict[str, str]] = {
    "job_training": "Capacitación laboral",
    "employment": "Inserción laboral",
    "entrepreneurship_plan_funded": "Plan de emprendimiento con capital semilla",
    "education": "Reinserción educativa",
    "follow_up_visit": "Visita de seguimiento",
}

TrainingFormat = Literal[
    "workshop", "course", "talk", "technical_assistance", "regional_meeting", "virtual_course"
]
TRAINING_FORMATS: Final[dict[str, str]] = {
    "workshop": "Taller",
    "course": "Curso",
    "talk": "Charla",
    "technical_assistance": "Asistencia técnica",
    "regional_meeting": "Encuentro regional",
    "virtual_course": "Curso virtual",
}

TrainingTopic = Literal[
    "trafficking", "child_sexual_exploitation", "forced_labour", "victim_care", "other"
]

Audience = Literal[
    "justice_operators",
    "care_operators",
    "public_officials",
    "car_staff",
    "teachers",
    "parents",
    "adolescents",
    "social_leaders",
    "tourism_providers",
    "transport_workers",
    "journalists",
    "municipal_inspectors",
    "other",
]
AUDIENCES: Final[dict[str, str]] = {
    "justice_operators": "Operadores de justicia",
    "care_operators": "Operadores de atención",
    "public_officials": "Funcionarios públicos",
    "car_staff": "Personal de Centros de Acogida Residencial (CAR)",
    "teachers": "Docentes",
    "parents": "Madres y padres de familia",
    "adolescents": "Adolescentes",
    "social_leaders": "Líderes sociales",
    "tourism_providers": "Prestadores de servicios turísticos",
    "transport_workers": "Trabajadores del transporte",
    "journalists": "Periodistas",
    "municipal_inspectors": "Inspectores municipales",
    "other": "Otro público",
}

Modality = Literal["in_person", "virtual"]

# Where a trained person works (training reach by institution); not the referral institutions.
TraineeInstitutionKind = Literal[
    "prosecutor_office",
    "judiciary",
    "police",
    "public_defence",
    "women_ministry",
    "residential_care",
    "health",
    "education",
    "municipality",
    "labour",
    "tourism",
    "transport",
    "migration",
    "ngo",
    "community",
    "other",
]
TRAINEE_INSTITUTION_KINDS: Final[dict[str, str]] = {
    "prosecutor_office": "Ministerio Público (fiscalías)",
    "judiciary": "Poder Judicial",
    "police": "Policía Nacional del Perú",
    "public_defence": "Defensa pública",
    "women_ministry": "Ministerio de la Mujer y Poblaciones Vulnerables (MIMP)",
    "residential_care": "Centro de Acogida Residencial (CAR)",
    "health": "Salud",
    "education": "Educación",
    "municipality": "Municipalidad",
    "labour": "Trabajo y promoción del empleo",
    "tourism": "Turismo",
    "transport": "Transporte",
    "migration": "Migraciones",
    "ngo": "Organización no gubernamental",
    "community": "Organización comunitaria",
    "other": "Otra institución",
}

TraineeRole = Literal[
    "prosecutor",
    "judge",
    "police_officer",
    "lawyer",
    "psychologist",
    "social_worker",
    "caregiver",
    "teacher",
    "health_worker",
    "inspector",
    "official",
    "manager",
    "student",
    "other",
]
TRAINEE_ROLES: Final[dict[str, str]] = {
    "prosecutor": "Fiscal",
    "judge": "Juez o jueza",
    "police_officer": "Efectivo policial",
    "lawyer": "Abogado o abogada",
    "psychologist": "Psicólogo o psicóloga",
    "social_worker": "Trabajador o trabajadora social",
    "caregiver": "Educador o cuidador (CAR)",
    "teacher": "Docente",
    "health_worker": "Personal de salud",
    "inspector": "Inspector o inspectora",
    "official": "Funcionario o servidor público",
    "manager": "Directivo o jefatura",
    "student": "Estudiante",
    "other": "Otro cargo",
}

# Labels the web console shows in its forms.
URGENCIES: Final[dict[str, str]] = {
    "low": "Baja",
    "normal": "Normal",
    "high": "Alta",
    "critical": "Crítica",
}

DECLINE_REASONS: Final[dict[str, str]] = {
    "no_capacity": "Sin capacidad de atención",
    "not_competent": "No es competente",
    "victim_unreachable": "No se pudo contactar a la víctima",
    "duplicate": "Derivación duplicada",
    "victim_declined": "La víctima no aceptó el servicio",
    "other": "Otro motivo",
}

TRAINING_TOPICS: Final[dict[str, str]] = {
    "trafficking": "Trata de personas",
    "child_sexual_exploitation": "Explotación sexual de niñas, niños y adolescentes",
    "forced_labour": "Trabajo forzoso",
    "victim_care": "Atención a víctimas",
    "other": "Otro tema",
}

MODALITIES: Final[dict[str, str]] = {"in_person": "Presencial", "virtual": "Virtual"}

# The stages of Peru's intersectoral protocol (DS 005-2016-IN, re-issued as DS 007-2023-IN),
# in the protocol's order; a victim's route may skip, repeat or run them in parallel.
RouteStage = Literal[
    "detection_report",
    "rescue_intervention",
    "first_attention",
    "udavit_protection",
    "upe_child_protection",
    "legal_aid",
    "shelter",
    "identity_documents",
    "return_home",
    "reintegration_pri",
    "follow_up_closure",
]
ROUTE_STAGES: Final[dict[str, str]] = {
    "detection_report": "Detección, identificación y denuncia",
    "rescue_intervention": "Rescate o intervención",
    "first_attention": "Primera atención y necesidades de emergencia",
    "udavit_protection": "Programa de protección de víctimas y testigos (UDAVIT)",
    "upe_child_protection": "Procedimiento de protección de la UPE (niñas, niños y adolescentes)",
    "legal_aid": "Asistencia legal",
    "shelter": "Acogida (CAR, Hogar de Refugio Temporal)",
    "identity_documents": "Documentos de identidad",
    "return_home": "Retorno al lugar de origen, verificado como seguro",
    "reintegration_pri": "Reintegración con plan individual (PRI)",
    "follow_up_closure": "Seguimiento y cierre",
}
# Who is responsible for a stage: the referral institutions, and those the protocol names
# that receive no referrals from Ruta (RENIEC, Migraciones, MIMP, the organisation itself).
RouteInstitutionKind = (
    InstitutionKind
    | Literal["civil_registry", "migration", "women_ministry", "education", "own_organisation"]
)
ROUTE_INSTITUTION_KINDS: Final[dict[str, str]] = {
    **INSTITUTION_KINDS,
    "civil_registry": "Registro de identidad (RENIEC)",
    "migration": "Migraciones",
    "women_ministry": "Ministerio de la Mujer (MIMP)",
    "education": "Sector educación",
    "own_organisation": "La propia organización",
}

# A funded project's code (`DTZ-2016`, `SERV-INTEG`): upper-case letters, digits and hyphens.
PROJECT_CODE_PATTERN: Final = r"^[A-Z0-9][A-Z0-9-]{1,31}$"
