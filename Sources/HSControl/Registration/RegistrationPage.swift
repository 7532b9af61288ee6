import HSHTTP

/// The page behind an `AuthURL` (`GET /register/<auth id>`). It shows the command that the
/// administrator runs to let the machine in.
enum RegistrationPage {
    /// Builds the response for the request path `path`, which starts with `/register/`.
    static func response(path: String, plane: ControlPlane) -> HTTPResponse {
        let text = String(path.dropFirst("/register/".count))
        guard let id = AuthRequestID(parsing: text) else {
            return .text(400, "invalid auth id in the registration URL; run tailscale up again for a new URL\n")
        }
        guard plane.pendingLogin(id) != nil else {
            return .text(404, "no login is waiting under this auth id; it may have expired: run tailscale up again\n")
        }
        return HTTPResponse(
            status: 200,
            headers: [
                "Content-Type": "text/html; charset=utf-8",
                "Cache-Control": "no-store",
                "X-Frame-Options": "DENY",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
                "Referrer-Policy": "no-referrer",
            ],
            body: Array(html(id: id).utf8)
        )
    }

    /// Renders the page. `id` contains only URL-safe base64 characters, so it needs no escaping.
    static func html(id: AuthRequestID) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>Registration waiting - headscale</title>
        <style>body{font-family:sans-serif;max-width:46em;margin:3em auto;padding:0 1em}\
        code{display:block;background:#eee;padding:1em;overflow-wrap:anywhere}</style>
        </head>
        <body>
        <h1>Machine registration</h1>
        <p>This machine waits for an administrator of this headscale server. To let it in, run:</p>
        <code>headscale auth register --auth-id \(id.text) --user USERNAME</code>
        <p>Replace USERNAME with the user that will own the machine. To refuse it, run
        <code>headscale auth reject --auth-id \(id.text)</code></p>
        </body>
        </html>

        """
    }
}
