import Foundation

/// Who may do what on the review app: the one place that decides whether a request is let in.
///
/// - Every request must carry the access token: the `token` query parameter (a GET, as in the
///   URL the server prints), the session cookie set from it, or the `X-Groundwork-Token` header.
///   Otherwise: 403.
/// - When the server listens on a loopback address, the `Host` header must name a loopback
///   address and the server's port (a page of another site whose name resolves to 127.0.0.1 —
///   DNS rebinding — is refused).
/// - A request that changes something (any method but GET and HEAD) must carry the token in the
///   `X-Groundwork-Token` header (a cookie alone is what a cross-site form would send), must not
///   come from another origin (`Origin`, when sent, is this server's; `Sec-Fetch-Site`, when
///   sent, is `same-origin`) and must be JSON; with `--read-only` it is refused whatever it carries.
public struct AccessPolicy: Sendable {
    /// The secret in the printed URL.
    public let token: String
    /// Whether every change is refused.
    public let readOnly: Bool
    /// The port the server listens on (for the Host and Origin checks and the cookie's name).
    public var port: Int
    /// Whether the server listens on a loopback address only (then the Host header is checked).
    public let loopbackOnly: Bool

    public static let tokenHeader = "X-Groundwork-Token"

    public init(token: String, readOnly: Bool, port: Int, loopbackOnly: Bool) {
        self.token = token
        self.readOnly = readOnly
        self.port = port
        self.loopbackOnly = loopbackOnly
    }

    /// A new random token: 32 bytes from the system's random source, as 64 hex digits.
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// The session cookie's name (one per port: cookies do not tell ports apart).
    public var cookieName: String { "groundwork-token-\(port)" }

    /// What a request carries that the policy looks at.
    public struct Request: Sendable {
        public var method: String
        public var host: String?
        public var origin: String?
        public var secFetchSite: String?
        public var contentType: String?
        public var queryToken: String?
        public var headerToken: String?
        public var cookieToken: String?

        public init(
            method: String, host: String?, origin: String? = nil, secFetchSite: String? = nil, contentType: String? = nil,
            queryToken: String? = nil, headerToken: String? = nil, cookieToken: String? = nil
        ) {
            self.method = method
            self.host = host
            self.origin = origin
            self.secFetchSite = secFetchSite
            self.contentType = contentType
            self.queryToken = queryToken
            self.headerToken = headerToken
            self.cookieToken = cookieToken
        }
    }

    /// The policy's answer.
    public enum Decision: Equatable, Sendable {
        /// Let in; `setCookie` when the token came in the query (the page then keeps it in a cookie).
        case allow(setCookie: Bool)
        /// Refused with 403 and this reason.
        case deny(String)
    }

    /// Decides on one request.
    public func decide(_ request: Request) -> Decision {
        if loopbackOnly && !hostIsLoopback(request.host) {
            return .deny("the Host header must name this machine's loopback address and port \(port)")
        }
        let safe = request.method == "GET" || request.method == "HEAD"
        let viaQuery = safe && matches(request.queryToken)
        let viaHeader = matches(request.headerToken)
        let viaCookie = matches(request.cookieToken)
        guard viaQuery || viaHeader || viaCookie else {
            return .deny("missing or wrong access token: open the URL that groundwork serve printed")
        }
        if safe { return .allow(setCookie: viaQuery && !viaCookie) }
        if readOnly { return .deny("the server is read-only (--read-only): nothing can be changed") }
        guard viaHeader else { return .deny("a change must carry the access token in the \(Self.tokenHeader) header") }
        if let origin = request.origin, !originIsSelf(origin, host: request.host) {
            return .deny("a change from another origin (\(origin)) is refused")
        }
        if let site = request.secFetchSite?.lowercased(), site != "same-origin" {
            return .deny("a change from another site (Sec-Fetch-Site: \(site)) is refused")
        }
        guard let type = request.contentType?.lowercased(), type.hasPrefix("application/json") else {
            return .deny("a change must be sent as application/json")
        }
        return .allow(setCookie: false)
    }

    /// Compares in time independent of where the strings differ.
    func matches(_ candidate: String?) -> Bool {
        guard let candidate else { return false }
        let a = Array(candidate.utf8)
        let b = Array(token.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// Whether `host` (a Host header) is a loopback name with this server's port.
    func hostIsLoopback(_ host: String?) -> Bool {
        guard let host else { return false }
        let lowered = host.lowercased()
        return ["127.0.0.1", "localhost", "[::1]"].contains { lowered == "\($0):\(port)" }
    }

    /// Whether `origin` is this server as reached through `host`.
    func originIsSelf(_ origin: String, host: String?) -> Bool {
        guard let host else { return false }
        return origin.lowercased() == "http://\(host.lowercased())"
    }

    /// Whether an address to listen on is a loopback address.
    public static func isLoopback(_ host: String) -> Bool {
        let lowered = host.lowercased()
        return lowered == "localhost" || lowered == "::1" || lowered.hasPrefix("127.")
    }
}
