import HSHTTP

/// The HTML pages of the OIDC login. Every value from a client or the provider is escaped.
enum OIDCPages {
    static let headers: HTTPHeaders = [
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy":
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        "Referrer-Policy": "no-referrer",
    ]

    /// Builds a page with one sentence.
    static func message(_ status: Int, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: headers, body: Array(page("<p>\(escape(text))</p>").utf8))
    }

    /// Builds the page that names the machine and requests the user to confirm it.
    static func confirmation(
        authID: AuthRequestID,
        token: String,
        hostname: String,
        machineKey: String,
        userName: String
    ) -> HTTPResponse {
        let body = """
            <p>Register the machine <b>\(escape(hostname))</b> to <b>\(escape(userName))</b>?</p>
            <p>Machine key: <code>\(escape(String(machineKey.prefix(24))))…</code></p>
            <p>Continue only if you just ran <code>tailscale up</code> on that machine yourself.</p>
            <form method="post" action="/register/confirm/\(escape(authID.text))">
            <input type="hidden" name="token" value="\(escape(token))">
            <button type="submit">Register this machine</button>
            </form>
            """
        return HTTPResponse(status: 200, headers: headers, body: Array(page(body).utf8))
    }

    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }

    private static func page(_ body: String) -> String {
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>headscale login</title></head><body>\n"
            + body + "\n</body></html>\n"
    }
}
