"""The HTCDS export's columns: Human Trafficking Case Data Standard names, what each holds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

# One row per victim. `prs_`, `vic_`, `cas_` and `hte_` are the HTCDS tables (person,
# victim context, case, trafficking event); age bands, year and the exploitation flags
# use the names of the Counter Trafficking Data Collaborative's data set built on HTCDS.
# No ids, names, documents, birth dates, contacts, addresses or free text: ever.
COLUMNS: Final[Mapping[str, str]] = {
    "yearOfRegistration": "Año de apertura del caso (hora de Lima)",
    "cas_Status": "Active | Closed",
    "prs_Gender": "Female | Male | Unknown",
    "ageBroad": "Franja de edad al ingreso (franjas del CTDC: 0--8, 09--17, ..., 48+)",
    "majorityStatus": "Minor | Adult | Unknown",
    "prs_Nationality": "Nacionalidad (ISO 3166-1 alfa-2)",
    "hte_State": "Departamento de explotación (ISO 3166-2:PE)",
    "isSexualExploit": "1 si hubo explotación sexual",
    "isForcedLabour": "1 si hubo trabajo forzoso o explotación laboral",
    "isOtherExploit": "1 si hubo otra finalidad de explotación",
    "vic_TypeOfLabourExploitation": "Valores HTCDS separados por ;",
    "vic_TypeOfSexExploitation": "Valor HTCDS",
    "vic_MethodOfRecruitment": "Valor HTCDS",
    "vic_MethodsOfControl": "Valores HTCDS separados por ;",
}
HEADER: Final = tuple(COLUMNS)
