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

ROLES: Final[dict[str, str]] = {
    "case_worker": "Profesional de atención",
    "coordinator": "Coordinación",
    "trainer": "Capacitación",
    "auditor": "Auditoría",
    "admin": "Administración",
    "partner": "Institución aliada",
}
