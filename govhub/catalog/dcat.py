"""The catalog as DCAT-AP 3 in JSON-LD (§9: the directory, exchanged in an open vocabulary).

One `dcat:Catalog` of the district; each published (or changed) resource a `dcat:Dataset`:

- identifier (资源代码), title and description in Chinese, the provider (`foaf:Agent` with its USCC) and its data
  steward as the contact point (`vcard:Kind`), keywords, theme (the §7 class), issued / modified dates;
- `dct:accrualPeriodicity` from the update cycle and `dct:accessRights` from the open attribute, both as the EU
  Publications Office's authority IRIs; the §8 share type, its conditions or legal basis, as `govhub:` terms (DCAT
  has no inter-agency sharing vocabulary);
- the data dictionary (信息项) as a CSVW table schema: column name, Chinese title, XSD datatype, required,
  primary key;
- given the hub's facts, a `dcat:Distribution` per resource holding a current snapshot (Parquet, size, time).

Drafts and retired resources are not exported: they are not in force.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from govhub.catalog.model import (
    Catalog,
    FieldType,
    OpenAttribute,
    Resource,
    UpdateCycle,
)

EU = "http://publications.europa.eu/resource/authority/"
GOVHUB = "https://govhub.example/ns#"
CONTEXT: dict[str, Any] = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "csvw": "http://www.w3.org/ns/csvw#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "adms": "http://www.w3.org/ns/adms#",
    "govhub": GOVHUB,
}
FREQUENCY = {
    UpdateCycle.REALTIME: "UPDATE_CONT",
    UpdateCycle.DAILY: "DAILY",
    UpdateCycle.WEEKLY: "WEEKLY",
    UpdateCycle.MONTHLY: "MONTHLY",
    UpdateCycle.QUARTERLY: "QUARTERLY",
    UpdateCycle.HALF_YEARLY: "ANNUAL_2",
    UpdateCycle.YEARLY: "ANNUAL",
    UpdateCycle.IRREGULAR: "IRREG",
}
ACCESS_RIGHTS = {
    OpenAttribute.OPEN: "PUBLIC",
    OpenAttribute.CONDITIONAL: "RESTRICTED",
    OpenAttribute.CLOSED: "NON_PUBLIC",
}
XSD = {
    FieldType.STRING: "xsd:string",
    FieldType.INTEGER: "xsd:integer",
    FieldType.NUMBER: "xsd:double",
    FieldType.BOOLEAN: "xsd:boolean",
    FieldType.DATE: "xsd:date",
    FieldType.DATETIME: "xsd:dateTime",
}


def _zh(text: str) -> dict[str, str]:
    return {"@value": text, "@language": "zh"}


def _date(day: dt.date | None) -> dict[str, str] | None:
    return {"@value": day.isoformat(), "@type": "xsd:date"} if day else None


def _agent(catalog: Catalog, agency_id: str) -> dict[str, Any]:
    agency = catalog.agencies.get(agency_id)
    if agency is None:
        return {"@id": f"{GOVHUB}agency/{agency_id}", "@type": "foaf:Agent"}
    return {
        "@id": f"{GOVHUB}agency/{agency.id}",
        "@type": "foaf:Agent",
        "foaf:name": _zh(agency.name),
        "dct:identifier": agency.uscc,
    }


def _contact(catalog: Catalog, agency_id: str) -> dict[str, Any] | None:
    agency = catalog.agencies.get(agency_id)
    if agency is None:
        return None
    steward = agency.steward
    point: dict[str, Any] = {"@type": "vcard:Kind", "vcard:fn": steward.name}
    if steward.email:
        point["vcard:hasEmail"] = {"@id": f"mailto:{steward.email}"}
    if steward.phone:
        point["vcard:hasTelephone"] = {"@id": f"tel:{steward.phone}"}
    return point


def _schema(resource: Resource) -> dict[str, Any]:
    columns = [
        {
            "@type": "csvw:Column",
            "csvw:name": f.name,
            "csvw:title": _zh(f.label),
            "csvw:datatype": {"@id": XSD[f.type]},
            "csvw:required": f.required or f.name in resource.primary_key,
            **({"dct:description": _zh(f.description)} if f.description else {}),
        }
        for f in resource.fields
    ]
    return {"@type": "csvw:Schema", "csvw:column": columns, "csvw:primaryKey": list(resource.primary_key)}


def distribution(
    resource: Resource, snapshot_id: str, *, rows: int, size: int, created_at: str
) -> dict[str, Any]:
    """A current snapshot as a `dcat:Distribution` (the caller reads the snapshot's facts from the warehouse)."""
    return {
        "@id": f"{GOVHUB}snapshot/{resource.agency}/{resource.id}/{snapshot_id}",
        "@type": "dcat:Distribution",
        "dct:title": _zh(f"{resource.name}（当前快照 {snapshot_id}）"),
        "dcat:mediaType": {
            "@id": "https://www.iana.org/assignments/media-types/application/vnd.apache.parquet"
        },
        "dct:format": {"@id": f"{EU}file-type/PARQUET"},
        "dcat:accessURL": {"@id": f"{GOVHUB}hub/{resource.agency}.{resource.id}"},
        "dcat:byteSize": {"@value": str(size), "@type": "xsd:nonNegativeInteger"},
        "dct:modified": {"@value": created_at, "@type": "xsd:dateTime"},
        "govhub:rows": rows,
    }


def dataset(catalog: Catalog, resource: Resource, snapshot: dict[str, Any] | None = None) -> dict[str, Any]:
    """One resource as a `dcat:Dataset` node (`snapshot`: its `distribution`, if it has one)."""
    share = resource.share
    node: dict[str, Any] = {
        "@id": f"{GOVHUB}resource/{resource.agency}/{resource.id}",
        "@type": "dcat:Dataset",
        "dct:identifier": resource.code,
        "dct:title": _zh(resource.name),
        "dct:description": _zh(resource.summary),
        "dct:publisher": _agent(catalog, resource.agency),
        "dcat:theme": _zh(resource.resource_class.label.removeprefix("基础·")),
        "dct:accrualPeriodicity": {"@id": f"{EU}frequency/{FREQUENCY[resource.cycle]}"},
        "dct:accessRights": {"@id": f"{EU}access-right/{ACCESS_RIGHTS[resource.open]}"},
        "govhub:shareType": share.type.value,
        "govhub:shareTypeLabel": _zh(share.type.label),
        "dct:conformsTo": _schema(resource),
        "adms:status": resource.status.value,
    }
    optional = {
        "dcat:contactPoint": _contact(catalog, resource.agency),
        "dcat:keyword": [_zh(t) for t in resource.tags] or None,
        "dct:issued": _date(resource.published_on),
        "dct:modified": _date(resource.changed_on or resource.reviewed_on or resource.published_on),
        "govhub:shareConditions": _zh(share.conditions) if share.conditions else None,
        "govhub:legalBasis": _zh(share.legal_basis) if share.legal_basis else None,
        "dcat:distribution": snapshot,
    }
    node.update({k: v for k, v in optional.items() if v is not None})
    return node


def catalog_jsonld(
    catalog: Catalog,
    *,
    snapshots: dict[tuple[str, str], dict[str, Any]] | None = None,
    title: str = "松江区政务数据资源目录",
) -> dict[str, Any]:
    """The whole catalog as one JSON-LD document: resources in force only, each with its current snapshot's
    distribution when `snapshots` (by resource key) has one."""
    resources = [r for r in catalog.resources if r.status.in_force]
    return {
        "@context": CONTEXT,
        "@id": f"{GOVHUB}catalog",
        "@type": "dcat:Catalog",
        "dct:title": _zh(title),
        "dct:description": _zh("依据《松江区政务数据资源共享管理办法》编制的政务数据资源目录"),
        "dct:language": {"@id": f"{EU}language/ZHO"},
        "dct:publisher": {
            "@id": f"{GOVHUB}agency/office",
            "@type": "foaf:Agent",
            "foaf:name": _zh("松江区科学技术委员会"),
        },
        "dcat:dataset": [dataset(catalog, r, (snapshots or {}).get(r.key)) for r in resources],
    }
