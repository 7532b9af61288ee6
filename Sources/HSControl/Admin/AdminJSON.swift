import Foundation
import HSCore

/// Writes admin API objects with grpc-gateway's conventions: camelCase names, 64-bit ids as
/// strings, RFC 3339 times, `null` for absent times, and every field present.
enum AdminJSON {
    static func write(_ user: AdminUser, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("id")
        writer.string(String(user.id))
        writer.key("name")
        writer.string(user.name)
        writer.key("createdAt")
        writer.string(RFC3339.format(user.createdAt))
        writer.key("displayName")
        writer.string(user.displayName)
        writer.key("email")
        writer.string(user.email)
        writer.key("providerId")
        writer.string(user.providerID)
        writer.key("provider")
        writer.string(user.provider)
        writer.key("profilePicUrl")
        writer.string(user.profilePicURL)
        writer.endObject()
    }

    static func write(_ key: AdminPreAuthKey, user: AdminUser?, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("user")
        if let user {
            write(user, into: &writer)
        } else {
            writer.null()
        }
        writer.key("id")
        writer.string(String(key.id))
        writer.key("key")
        writer.string(key.displayKey)
        writer.key("reusable")
        writer.bool(key.reusable)
        writer.key("ephemeral")
        writer.bool(key.ephemeral)
        writer.key("used")
        writer.bool(key.used)
        writer.key("expiration")
        writeTime(key.expiration, into: &writer)
        writer.key("createdAt")
        writer.string(RFC3339.format(key.createdAt))
        writer.key("aclTags")
        writer.strings(key.tags)
        writer.endObject()
    }

    static func write(_ key: AdminAPIKey, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("id")
        writer.string(String(key.id))
        writer.key("prefix")
        writer.string(key.displayPrefix)
        writer.key("expiration")
        writeTime(key.expiration, into: &writer)
        writer.key("createdAt")
        writer.string(RFC3339.format(key.createdAt))
        writer.key("lastSeen")
        writeTime(key.lastSeen, into: &writer)
        writer.endObject()
    }

    static func writeTime(_ date: Date?, into writer: inout JSONWriter) {
        if let date {
            writer.string(RFC3339.format(date))
        } else {
            writer.null()
        }
    }

    /// The error body: `{"code": <gRPC code>, "message": "...", "details": []}`.
    static func error(_ error: AdminError) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("code")
        writer.integer(error.grpcCode)
        writer.key("message")
        writer.string(error.message)
        writer.key("details")
        writer.beginArray()
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    /// Wraps `body` as `{"<name>": body}`.
    static func wrap(_ name: String, _ body: (inout JSONWriter) throws -> Void) rethrows -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key(name)
        try body(&writer)
        writer.endObject()
        return writer.bytes
    }
}
