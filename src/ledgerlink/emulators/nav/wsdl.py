"""WSDL documents generated from page and codeunit definitions, shaped like NAV 2016's
(``Key`` first, ``<Entity>_List``, ``<Entity>_Fields``, ``<Entity>_Filter``, option enums with
``_blank_``, ``<ns>:<Operation>`` soapActions, ``_Binding``/``_Port``/``_Service``)."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from ledgerlink.emulators.nav.schema import CodeunitDef, PageDef

__all__ = ["PAGE_OPERATIONS", "SYSTEM_NAMESPACE", "codeunit_wsdl", "page_wsdl", "system_wsdl"]

PAGE_OPERATIONS = (
    "Read",
    "ReadByRecId",
    "ReadMultiple",
    "IsUpdated",
    "GetRecIdFromKey",
    "Create",
    "CreateMultiple",
    "Update",
    "UpdateMultiple",
    "Delete",
)
SYSTEM_NAMESPACE = "urn:microsoft-dynamics-schemas/nav/system/"
_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"


def _element(name: str, type_: str, *, min_occurs: int = 1, max_occurs: str = "1") -> str:
    return (
        f'            <xsd:element minOccurs="{min_occurs}" maxOccurs="{max_occurs}" '
        f'name="{name}" type="{type_}" />'
    )


def _wrapper(name: str, *elements: str) -> str:
    body = "\n".join(elements)
    if not elements:
        return (
            f'      <xsd:element name="{name}">\n        <xsd:complexType>\n'
            "          <xsd:sequence />\n        </xsd:complexType>\n      </xsd:element>"
        )
    return (
        f'      <xsd:element name="{name}">\n        <xsd:complexType>\n'
        f"          <xsd:sequence>\n{body}\n          </xsd:sequence>\n"
        "        </xsd:complexType>\n      </xsd:element>"
    )


def _enum(name: str, values: tuple[str, ...]) -> str:
    members = "\n".join(f"          <xsd:enumeration value={quoteattr(v)} />" for v in values)
    return (
        f'      <xsd:simpleType name="{name}">\n'
        f'        <xsd:restriction base="xsd:string">\n{members}\n'
        "        </xsd:restriction>\n      </xsd:simpleType>"
    )


def _messages_and_binding(
    service: str, namespace: str, operations: tuple[str, ...], *, location: str, suffix: str
) -> str:
    messages = "\n".join(
        f'  <message name="{name}">\n    <part name="parameters" element="tns:{name}" />\n'
        "  </message>"
        for operation in operations
        for name in (operation, f"{operation}_Result")
    )
    port_ops = "\n".join(
        f'    <operation name="{op}">\n      <input name="{op}" message="tns:{op}" />\n'
        f'      <output name="{op}_Result" message="tns:{op}_Result" />\n    </operation>'
        for op in operations
    )
    binding_ops = "\n".join(
        f'    <operation name="{op}">\n'
        f'      <operation soapAction="{namespace}:{op}" style="document" xmlns="{_SOAP}" />\n'
        f'      <input name="{op}">\n        <body use="literal" xmlns="{_SOAP}" />\n'
        f'      </input>\n      <output name="{op}_Result">\n'
        f'        <body use="literal" xmlns="{_SOAP}" />\n      </output>\n    </operation>'
        for op in operations
    )
    return (
        f"{messages}\n"
        f'  <portType name="{service}_Port">\n{port_ops}\n  </portType>\n'
        f'  <binding name="{service}_Binding" type="tns:{service}_Port">\n'
        f'    <binding transport="http://schemas.xmlsoap.org/soap/http" xmlns="{_SOAP}" />\n'
        f"{binding_ops}\n  </binding>\n"
        f'  <service name="{service}{suffix}">\n'
        f'    <port name="{service}_Port" binding="tns:{service}_Binding">\n'
        f'      <address location={quoteattr(location)} xmlns="{_SOAP}" />\n'
        "    </port>\n  </service>\n</definitions>\n"
    )


def _definitions(namespace: str, schema: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<definitions xmlns:tns="{namespace}" targetNamespace="{namespace}" '
        'xmlns="http://schemas.xmlsoap.org/wsdl/">\n  <types>\n'
        f'    <xsd:schema elementFormDefault="qualified" targetNamespace="{namespace}" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema">\n'
        f"{schema}\n    </xsd:schema>\n  </types>\n"
    )


def page_wsdl(page: PageDef, location: str) -> str:
    """The WSDL of a page service."""
    entity = page.service_name
    types = [_enum(f.name, f.option_names) for f in page.fields if f.type == "Option"]
    fields = [_element("Key", "xsd:string", min_occurs=0)]
    fields += [_element(f.name, f.xsd_type, min_occurs=0) for f in page.fields]
    types.append(
        f'      <xsd:complexType name="{entity}">\n        <xsd:sequence>\n'
        + "\n".join(line[4:] for line in fields)
        + "\n        </xsd:sequence>\n      </xsd:complexType>"
    )
    types.append(
        f'      <xsd:complexType name="{entity}_List">\n        <xsd:sequence>\n'
        f'          <xsd:element minOccurs="1" maxOccurs="unbounded" name="{entity}" '
        f'type="tns:{entity}" />\n        </xsd:sequence>\n      </xsd:complexType>'
    )
    types.append(_enum(f"{entity}_Fields", tuple(f.name for f in page.fields)))
    types.append(
        f'      <xsd:complexType name="{entity}_Filter">\n        <xsd:sequence>\n'
        f'          <xsd:element minOccurs="1" maxOccurs="1" name="Field" '
        f'type="tns:{entity}_Fields" />\n'
        '          <xsd:element minOccurs="1" maxOccurs="1" name="Criteria" type="xsd:string" />\n'
        "        </xsd:sequence>\n      </xsd:complexType>"
    )
    read_parameters = [_element(name, page.field(name).xsd_type) for name in page.primary_key]  # type: ignore[union-attr]
    entity_one = _element(entity, f"tns:{entity}")
    entity_list = _element(f"{entity}_List", f"tns:{entity}_List")
    key = _element("Key", "xsd:string")
    elements = [
        _wrapper("Read", *read_parameters),
        _wrapper("Read_Result", _element(entity, f"tns:{entity}", min_occurs=0)),
        _wrapper("ReadByRecId", _element("recId", "xsd:string")),
        _wrapper("ReadByRecId_Result", _element(entity, f"tns:{entity}", min_occurs=0)),
        _wrapper(
            "ReadMultiple",
            _element("filter", f"tns:{entity}_Filter", max_occurs="unbounded"),
            _element("bookmarkKey", "xsd:string", min_occurs=0),
            _element("setSize", "xsd:int"),
        ),
        _wrapper(
            "ReadMultiple_Result",
            _element("ReadMultiple_Result", f"tns:{entity}_List", min_occurs=0),
        ),
        _wrapper("IsUpdated", key),
        _wrapper("IsUpdated_Result", _element("IsUpdated_Result", "xsd:boolean")),
        _wrapper("GetRecIdFromKey", key),
        _wrapper("GetRecIdFromKey_Result", _element("GetRecIdFromKey_Result", "xsd:string")),
        _wrapper("Create", entity_one),
        _wrapper("Create_Result", entity_one),
        _wrapper("CreateMultiple", entity_list),
        _wrapper("CreateMultiple_Result", entity_list),
        _wrapper("Update", entity_one),
        _wrapper("Update_Result", entity_one),
        _wrapper("UpdateMultiple", entity_list),
        _wrapper("UpdateMultiple_Result", entity_list),
        _wrapper("Delete", key),
        _wrapper("Delete_Result", _element("Delete_Result", "xsd:boolean")),
    ]
    schema = "\n".join(types + elements)
    return _definitions(page.namespace, schema) + _messages_and_binding(
        entity, page.namespace, PAGE_OPERATIONS, location=location, suffix="_Service"
    )


def codeunit_wsdl(codeunit: CodeunitDef, location: str) -> str:
    """The WSDL of a codeunit service (each function: no parameters, text ``return_value``)."""
    elements = []
    for function in codeunit.functions:
        elements.append(_wrapper(function))
        elements.append(_wrapper(f"{function}_Result", _element("return_value", "xsd:string")))
    return _definitions(codeunit.namespace, "\n".join(elements)) + _messages_and_binding(
        codeunit.service_name,
        codeunit.namespace,
        tuple(codeunit.functions),
        location=location,
        suffix="",
    )


def system_wsdl(location: str) -> str:
    """The WSDL of ``SystemService`` (``Companies``)."""
    elements = [
        _wrapper("Companies"),
        _wrapper(
            "Companies_Result",
            _element("return_value", "xsd:string", min_occurs=0, max_occurs="unbounded"),
        ),
    ]
    return _definitions(SYSTEM_NAMESPACE, "\n".join(elements)) + _messages_and_binding(
        "SystemService", SYSTEM_NAMESPACE, ("Companies",), location=location, suffix=""
    )
