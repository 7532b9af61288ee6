import HSCore
import HSHTTP

/// The OpenAPI 2.0 (Swagger) description of `/api/v1`, served at `/swagger/v1/openapiv2.json`,
/// built from ``AdminAPI/endpoints`` so it lists exactly what the router serves.
enum OpenAPIDocument {
    static let path = "/swagger/v1/openapiv2.json"

    /// The document as compact JSON; built once, since the endpoint list never changes.
    static let bytes: [UInt8] = render()

    static func response() -> HTTPResponse {
        .json(200, bytes)
    }

    private static func render() -> [UInt8] {
        var writer = JSONWriter(capacity: 16 << 10)
        writer.beginObject()
        writer.key("swagger")
        writer.string("2.0")
        writer.key("info")
        writer.value(.object([("title", .string("headscale")), ("version", .string("v1"))]))
        writer.key("basePath")
        writer.string("/")
        writer.key("schemes")
        writer.strings(["http", "https"])
        writer.key("consumes")
        writer.strings(["application/json"])
        writer.key("produces")
        writer.strings(["application/json"])

        writer.key("securityDefinitions")
        writer.value(
            .object([
                (
                    "Bearer",
                    .object([
                        ("type", .string("apiKey")), ("name", .string("Authorization")), ("in", .string("header")),
                        ("description", .string("An API key from `headscale apikeys create`, as `Bearer <key>`")),
                    ])
                )
            ])
        )
        writer.key("security")
        writer.value(.array([.object([("Bearer", .array([]))])]))

        writer.key("paths")
        writePaths(&writer)
        writer.key("definitions")
        writer.value(.object([("rpcStatus", errorSchema)]))
        writer.endObject()
        return writer.bytes
    }

    private static func writePaths(_ writer: inout JSONWriter) {
        var templates: [String] = []
        for endpoint in AdminAPI.endpoints where !templates.contains(endpoint.template) {
            templates.append(endpoint.template)
        }
        writer.beginObject()
        for template in templates {
            writer.key(template)
            writer.beginObject()
            for endpoint in AdminAPI.endpoints where endpoint.template == template {
                writer.key(endpoint.method.lowercased())
                writer.value(operation(endpoint))
            }
            writer.endObject()
        }
        writer.endObject()
    }

    private static func operation(_ endpoint: AdminEndpoint) -> JSONValue {
        var parameters: [JSONValue] = endpoint.segments.filter { $0.hasPrefix("{") }.map { segment in
            .object([
                ("name", .string(String(segment.dropFirst().dropLast()))), ("in", .string("path")),
                ("required", .bool(true)), ("type", .string("string")),
            ])
        }
        if endpoint.method == "POST" || endpoint.method == "PUT" {
            parameters.append(
                .object([
                    ("name", .string("body")), ("in", .string("body")), ("required", .bool(true)),
                    ("schema", .object([("type", .string("object"))])),
                ])
            )
        }
        return .object([
            ("summary", .string(endpoint.summary)),
            ("operationId", .string("HeadscaleService_" + endpoint.operation)),
            ("tags", .array([.string("HeadscaleService")])),
            ("parameters", .array(parameters)),
            (
                "responses",
                .object([
                    ("200", .object([("description", .string("A successful response."))])),
                    (
                        "default",
                        .object([
                            ("description", .string("An error: gRPC code, message and details.")),
                            ("schema", .object([("$ref", .string("#/definitions/rpcStatus"))])),
                        ])
                    ),
                ])
            ),
        ])
    }

    private static let errorSchema: JSONValue = .object([
        ("type", .string("object")),
        (
            "properties",
            .object([
                ("code", .object([("type", .string("integer")), ("format", .string("int32"))])),
                ("message", .object([("type", .string("string"))])),
                ("details", .object([("type", .string("array")), ("items", .object([("type", .string("object"))]))])),
            ])
        ),
    ])
}
