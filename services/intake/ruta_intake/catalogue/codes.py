"""Intake's own codes with their Spanish labels (the shared ones live in ruta_shared.reference)."""

from __future__ import annotations

from typing import Final, Literal

from ruta_shared.events.catalog.intake import ClosureReason, GivenBy
from ruta_shared.events.catalog.security import AccessPurpose

CLOSURE_REASONS: Final[dict[ClosureReason, str]] = {
    "reintegrated": "Reintegrada",
    "transferred": "Transferida a otra institución",
    "lost_contact": "Se perdió el contacto",
    "declined_services": "No aceptó los servicios",
    "deceased": "Fallecida",
    "other": "Otro motivo",
}

Relationship = Literal["parent", "sibling", "child", "partner", "grandparent", "other"]
RELATIONSHIPS: Final[dict[Relationship, str]] = {
    "parent": "Madre o padre",
    "sibling": "Hermana o hermano",
    "child": "Hija o hijo",
    "partner": "Pareja",
    "grandparent": "Abuela o abuelo",
    "other": "Otro familiar",
}

GIVEN_BY: Final[dict[GivenBy, str]] = {
    "victim": "La víctima",
    "guardian": "Madre, padre o tutor (para menores de edad)",
}

DocumentType = Literal["dni", "ce", "passport", "birth_certificate", "foreign_id", "other"]
DOCUMENT_TYPES: Final[dict[DocumentType, str]] = {
    "dni": "DNI",
    "ce": "Carné de extranjería",
    "passport": "Pasaporte",
    "birth_certificate": "Partida de nacimiento",
    "foreign_id": "Documento de identidad extranjero",
    "other": "Otro documento",
}

# Optional trafficking detail, aligned with the HTCDS data standard (IOM / Tech Against
# Trafficking): how the victim was recruited, how they were controlled, where exploited.
RecruitmentMethod = Literal[
    "job_offer",
    "personal_relationship",
    "family_member",
    "marriage_proposal",
    "online",
    "education_offer",
    "abduction",
    "other",
    "unknown",
]
RECRUITMENT_METHODS: Final[dict[RecruitmentMethod, str]] = {
    "job_offer": "Oferta de trabajo falsa o engañosa",
    "personal_relationship": "Relación sentimental o de amistad",
    "family_member": "Captación por un familiar",
    "marriage_proposal": "Propuesta de matrimonio",
    "online": "Captación por internet o redes sociales",
    "education_offer": "Oferta de estudios",
    "abduction": "Secuestro o rapto",
    "other": "Otra forma",
    "unknown": "No se sabe",
}

MeansOfControl = Literal[
    "debt_bondage",
    "threats",
    "threats_to_family",
    "physical_abuse",
    "sexual_abuse",
    "psychological_abuse",
    "restricted_movement",
    "withheld_documents",
    "withheld_wages",
    "substance_dependence",
    "excessive_working_hours",
    "false_promises",
    "isolation",
    "other",
]
MEANS_OF_CONTROL: Final[dict[MeansOfControl, str]] = {
    "debt_bondage": "Servidumbre por deudas",
    "threats": "Amenazas",
    "threats_to_family": "Amenazas a la familia",
    "physical_abuse": "Violencia física",
    "sexual_abuse": "Violencia sexual",
    "psychological_abuse": "Violencia psicológica",
    "restricted_movement": "Restricción de la libertad de movimiento",
    "withheld_documents": "Retención de documentos",
    "withheld_wages": "Retención del salario",
    "substance_dependence": "Inducción al consumo de sustancias",
    "excessive_working_hours": "Jornadas excesivas",
    "false_promises": "Falsas promesas",
    "isolation": "Aislamiento",
    "other": "Otra forma de control",
}

ExploitationSetting = Literal[
    "bar_or_nightclub",
    "brothel",
    "private_home",
    "mining_camp",
    "logging_camp",
    "agriculture",
    "fishing",
    "factory",
    "street",
    "online",
    "other",
]
EXPLOITATION_SETTINGS: Final[dict[ExploitationSetting, str]] = {
    "bar_or_nightclub": "Bar, cantina o discoteca",
    "brothel": "Prostíbulo",
    "private_home": "Vivienda particular",
    "mining_camp": "Campamento minero",
    "logging_camp": "Campamento maderero",
    "agriculture": "Actividad agrícola",
    "fishing": "Actividad pesquera",
    "factory": "Fábrica o taller",
    "street": "Vía pública",
    "online": "Entorno digital",
    "other": "Otro lugar",
}

# Why someone reads personal data (the codes are ruta_shared.events.catalog.security's).
ACCESS_PURPOSES: Final[dict[AccessPurpose, str]] = {
    "case_work": "Trabajo del caso",
    "care": "Atención",
    "legal_aid": "Asistencia legal",
    "referral": "Derivación",
    "return_home": "Retorno al lugar de origen",
    "reintegration": "Reintegración",
    "supervision": "Supervisión",
    "consent_review": "Revisión del consentimiento",
    "training": "Capacitación",
    "duplicate_check": "Verificación de duplicados",
    "break_glass": "Acceso de emergencia",
}
