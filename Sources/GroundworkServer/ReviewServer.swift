import Foundation
import GRDB
import GroundworkAnnotations
import GroundworkCore
import GroundworkStore
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// How `groundwork serve` runs.
public struct ServerOptions: Sendable {
    /// The address to listen on: `127.0.0.1` unless the user opts in to another.
    public var host: String = "127.0.0.1"
    /// The port; 0 picks a free one.
    public var port: Int = 8765
    /// Refuse every change.
    public var readOnly: Bool = false
    /// The access token (random unless given, for tests).
    public var token: String = AccessPolicy.randomToken()

    public init(host: String = "127.0.0.1", port: Int = 8765, readOnly: Bool = false, token: String? = nil) {
        self.host = host
        self.port = port
        self.readOnly = readOnly
        if let token { self.token = token }
    }
}

/// The review app: a Hummingbird server over one project. Pages, images and the JSON API all go
/// through ``AccessPolicy``; reviews go through the same library calls as the CLI
/// (`Review.setStatus`, ``BurnedInReview/apply(_:imageIds:project:reviewer:expectedVersions:at:)``).
public struct ReviewServer: Sendable {
    public let project: Project
    public let options: ServerOptions
    let thumbnails = ThumbnailCache()

    /// A server over `project`, which must be opened read-only when `options.readOnly`.
    public init(project: Project, options: ServerOptions) {
        self.project = project
        self.options = options
    }

    /// The URL to open: the server's address with the token, as Jupyter prints it.
    public static func url(host: String, port: Int, token: String) -> String {
        let shown = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        let bracketed = shown.contains(":") ? "[\(shown)]" : shown
        return "http://\(bracketed):\(port)/?token=\(token)"
    }

    /// Runs until cancelled (or, with `signals`, until SIGINT/SIGTERM); calls `onReady` with the
    /// port once listening (the one chosen when `options.port` is 0).
    public func run(handleSignals: Bool = true, onReady: @escaping @Sendable (Int) async -> Void) async throws {
        let port = PortBox()
        let router = makeRouter(port: port)
        var logger = Logger(label: "groundwork-serve")
        logger.logLevel = .critical
        let application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(options.host, port: options.port), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? options.port
                port.set(bound)
                await onReady(bound)
            },
            logger: logger)
        try await application.runService(gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [])
    }

    // MARK: Routes

    func makeRouter(port: PortBox) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: SecurityMiddleware(server: self, port: port))
        router.get("/") { _, _ in page(WebAssets.indexHTML(token: options.token, readOnly: options.readOnly)) }
        router.get("/app.js") { _, _ in asset(WebAssets.appJS, type: "text/javascript; charset=utf-8") }
        router.get("/app.css") { _, _ in asset(WebAssets.appCSS, type: "text/css; charset=utf-8") }
        router.get("/api/session") { _, _ in
            try json(Session(project: project.root, readOnly: options.readOnly, reviewStatuses: Review.statuses))
        }
        router.get("/api/facets") { _, _ in try json(ReviewCatalog.facets(project)) }
        router.get("/api/images") { request, _ in
            let query = request.uri.queryParameters
            func value(_ key: String) -> String? {
                guard let raw = query[key[...]], !raw.isEmpty else { return nil }
                return String(raw)
            }
            let filter: ImageFilter
            do { filter = try Self.filter(query) } catch let error as DiagnosticsError {
                return try problem(.badRequest, error.summary)
            }
            let offset = value("offset").flatMap(Int.init) ?? 0
            let limit = value("limit").flatMap(Int.init) ?? 200
            do {
                return try json(ReviewCatalog.images(project, filter: filter, offset: offset, limit: limit))
            } catch let error as DiagnosticsError {
                return try problem(.badRequest, error.summary)
            }
        }
        router.get("/api/image-ids") { request, _ in
            let filter: ImageFilter
            do { filter = try Self.filter(request.uri.queryParameters) } catch let error as DiagnosticsError {
                return try problem(.badRequest, error.summary)
            }
            do { return try json(try ReviewCatalog.imageIDs(project, filter: filter)) } catch let error as DiagnosticsError {
                return try problem(.badRequest, error.summary)
            }
        }
        router.get("/api/images/:id") { _, context in
            guard let id = context.parameters.get("id", as: Int64.self) else { return try problem(.notFound, "no such image") }
            guard let detail = try ReviewCatalog.detail(project, id: id) else { return try problem(.notFound, "no image \(id)") }
            return try json(detail)
        }
        router.get("/api/images/:id/view") { request, context in
            guard let image = try imageRecord(context) else { return try problem(.notFound, "no such image") }
            let window = request.uri.queryParameters["window"].map(String.init) ?? "stored"
            do {
                return png(try ImageViews.display(image, window: window, objects: project.objects), cache: true)
            } catch {
                return try viewProblem(error)
            }
        }
        router.get("/api/images/:id/thumbnail") { _, context in
            guard let image = try imageRecord(context) else { return try problem(.notFound, "no such image") }
            if let cached = thumbnails.get(image.sha256) { return png(cached, cache: true) }
            do {
                let bytes = try ImageViews.thumbnail(image, objects: project.objects)
                thumbnails.put(image.sha256, bytes)
                return png(bytes, cache: true)
            } catch {
                return try viewProblem(error)
            }
        }
        router.get("/objects/:sha256") { _, context in
            // By hash only: 64 lowercase hex digits naming an image of the project; the file's path
            // is made by the object store from the hash, never from the URL.
            guard let sha = context.parameters.get("sha256"), sha.count == 64,
                sha.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
            else { return try problem(.notFound, "objects are named by 64 lowercase hex digits") }
            guard
                let format = try project.database.read({ db in
                    try String.fetchOne(db, sql: "SELECT format FROM image WHERE sha256 = ?", arguments: [sha])
                })
            else { return try problem(.notFound, "no image object \(sha)") }
            guard let bytes = try? FileIO.readAll(project.objects.path(for: sha)) else {
                return try problem(.notFound, "object \(sha) is missing from objects/")
            }
            return Response(
                status: .ok,
                headers: [.contentType: format == "jpeg" ? "image/jpeg" : "image/png", cacheControl: "private, max-age=86400"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.post("/api/regions/:id/review") { request, context in
            try await reviewStatus(request, context, table: .region)
        }
        router.post("/api/questions/:id/review") { request, context in
            try await reviewStatus(request, context, table: .vqaItem)
        }
        router.post("/api/images/:id/flag") { request, context in
            guard let id = context.parameters.get("id", as: Int64.self) else { return try problem(.notFound, "no such image") }
            var request = request
            let body: FlagBody
            do { body = try await decode(FlagBody.self, &request) } catch { return try problem(.badRequest, "\(error)") }
            guard let decision = BurnedInDecision(rawValue: body.decision) else {
                return try problem(.badRequest, "decision must be clear or confirm")
            }
            do {
                let reviewer = try Review.reviewerName(body.reviewer)
                let outcome = try BurnedInReview.apply(
                    decision, imageIds: [id], project: project, reviewer: reviewer, expectedVersions: [id: body.version])
                return try json(outcome)
            } catch let conflict as ReviewConflict {
                return try json(ConflictBody(error: conflict.description, conflict: conflict), status: .conflict)
            } catch let error as DiagnosticsError {
                let notFound = error.diagnostics.contains { $0.code == "not_found" }
                return try problem(notFound ? .notFound : .unprocessableContent, error.summary, error.diagnostics.map(\.message))
            }
        }
        return router
    }

    /// The grid's filter from a query string; an unknown review or flag value is an error.
    static func filter(_ query: FlatDictionary<Substring, Substring>) throws -> ImageFilter {
        func value(_ key: String) -> String? {
            guard let raw = query[key[...]], !raw.isEmpty else { return nil }
            return String(raw)
        }
        var filter = ImageFilter(
            split: value("split"), part: value("part"), modality: value("modality"), label: value("label"),
            source: value("source"))
        if let review = value("review") {
            guard let parsed = ImageFilter.ReviewFilter(rawValue: review) else {
                throw DiagnosticsError(summary: "review must be one of pending, reviewed, rejected, none", diagnostics: [])
            }
            filter.review = parsed
        }
        if let flag = value("flag") {
            guard let parsed = ImageFilter.FlagFilter(rawValue: flag) else {
                throw DiagnosticsError(summary: "flag must be one of flagged, confirmed, cleared, any, none", diagnostics: [])
            }
            filter.flag = parsed
        }
        return filter
    }

    struct Session: Codable {
        var project: String
        var readOnly: Bool
        var reviewStatuses: [String]
    }

    struct StatusBody: Codable {
        var status: String
        var version: Int
        var reviewer: String
    }

    struct FlagBody: Codable {
        var decision: String
        var version: Int
        var reviewer: String
    }

    struct ReviewedBody: Codable {
        var id: Int64
        var status: String
        var changed: Int
    }

    struct ConflictBody: Codable {
        var error: String
        var conflict: ReviewConflict
    }

    func reviewStatus(_ request: Request, _ context: BasicRequestContext, table: ReviewTable) async throws -> Response {
        guard let id = context.parameters.get("id", as: Int64.self) else { return try problem(.notFound, "no such item") }
        var request = request
        let body: StatusBody
        do { body = try await decode(StatusBody.self, &request) } catch { return try problem(.badRequest, "\(error)") }
        guard let status = ReviewStatus(rawValue: body.status) else {
            return try problem(.badRequest, "status must be one of \(Review.statuses.joined(separator: ", "))")
        }
        do {
            let reviewer = try Review.reviewerName(body.reviewer)
            let changed = try Review.setStatus(
                status, ids: [id], table: table, project: project, reviewer: reviewer, expectedVersions: [id: body.version])
            return try json(ReviewedBody(id: id, status: status.rawValue, changed: changed))
        } catch let conflict as ReviewConflict {
            return try json(ConflictBody(error: conflict.description, conflict: conflict), status: .conflict)
        } catch let error as DiagnosticsError {
            return try problem(error.summary.hasPrefix("no ") ? .notFound : .unprocessableContent, error.summary)
        }
    }

    func decode<T: Decodable>(_ type: T.Type, _ request: inout Request) async throws -> T {
        let buffer = try await request.collectBody(upTo: 64 * 1024)
        return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
    }

    func imageRecord(_ context: BasicRequestContext) throws -> ImageRecord? {
        guard let id = context.parameters.get("id", as: Int64.self) else { return nil }
        return try project.database.read { db in try ImageRecord.fetchOne(db, key: id) }
    }

    func viewProblem(_ error: any Error) throws -> Response {
        switch error as? ImageViews.ViewError {
        case .unknownWindow(let window)?: return try problem(.badRequest, "no window '\(window)' for this image")
        case .missingObject(let sha)?: return try problem(.notFound, "object \(sha) is missing from objects/")
        case .undecodable(let message)?: return try problem(.unprocessableContent, message)
        case nil: return try problem(.internalServerError, "\(error)")
        }
    }
}

// MARK: Responses

let cacheControl = HTTPField.Name("Cache-Control")!

struct ProblemBody: Codable {
    var error: String
    var details: [String]?
}

func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let data = try encoder.encode(value)
    return Response(
        status: status, headers: [.contentType: "application/json; charset=utf-8", cacheControl: "no-store"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}

func problem(_ status: HTTPResponse.Status, _ message: String, _ details: [String]? = nil) throws -> Response {
    try json(ProblemBody(error: message, details: details), status: status)
}

func page(_ html: String) -> Response {
    Response(
        status: .ok, headers: [.contentType: "text/html; charset=utf-8", cacheControl: "no-store"],
        body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
}

func asset(_ text: String, type: String) -> Response {
    Response(
        status: .ok, headers: [.contentType: type, cacheControl: "no-cache"],
        body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
}

func png(_ bytes: [UInt8], cache: Bool) -> Response {
    Response(
        status: .ok, headers: [.contentType: "image/png", cacheControl: cache ? "private, max-age=3600" : "no-store"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
}

/// The port the server ended up on (known once it listens).
final class PortBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func set(_ port: Int) {
        lock.lock()
        value = port
        lock.unlock()
    }
    func get() -> Int {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}

/// Thumbnails by object hash, the most recent 4,096 kept in memory.
final class ThumbnailCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: [UInt8]] = [:]
    private var order: [String] = []
    let capacity = 4096

    func get(_ key: String) -> [UInt8]? {
        lock.lock()
        defer { lock.unlock() }
        return entries[key]
    }

    func put(_ key: String, _ bytes: [UInt8]) {
        lock.lock()
        defer { lock.unlock() }
        if entries[key] == nil { order.append(key) }
        entries[key] = bytes
        if order.count > capacity {
            let evicted = order.removeFirst()
            entries[evicted] = nil
        }
    }
}

/// Applies the ``AccessPolicy`` to every request (known routes and unknown paths alike), sets the
/// session cookie, and adds the security headers to every response.
struct SecurityMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let server: ReviewServer
    let port: PortBox

    static let tokenHeader = HTTPField.Name(AccessPolicy.tokenHeader)!
    static let origin = HTTPField.Name("Origin")!
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
    static let hostHeader = HTTPField.Name("Host")!
    static let cookie = HTTPField.Name("Cookie")!
    static let setCookie = HTTPField.Name("Set-Cookie")!
    static let location = HTTPField.Name("Location")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        let policy = AccessPolicy(
            token: server.options.token, readOnly: server.options.readOnly, port: port.get(),
            loopbackOnly: AccessPolicy.isLoopback(server.options.host))
        let cookies = Cookies(from: request.headers[values: Self.cookie])
        let decision = policy.decide(
            AccessPolicy.Request(
                method: request.method.rawValue, host: request.head.authority ?? request.headers[Self.hostHeader],
                origin: request.headers[Self.origin], secFetchSite: request.headers[Self.secFetchSite],
                contentType: request.headers[.contentType],
                queryToken: request.uri.queryParameters["token"].map(String.init), headerToken: request.headers[Self.tokenHeader],
                cookieToken: cookies[policy.cookieName]?.value))
        var response: Response
        switch decision {
        case .deny(let reason):
            response = Response(
                status: .forbidden, headers: [.contentType: "text/plain; charset=utf-8", cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "403 Forbidden: \(reason)\n")))
        case .allow(let setCookie):
            if setCookie && request.uri.path == "/" {
                // The token leaves the address bar (and the history) for a cookie only this origin sends.
                response = Response(status: .seeOther, headers: [Self.location: "/"])
            } else {
                response = try await next(request, context)
            }
            if setCookie {
                response.headers.append(
                    HTTPField(
                        name: Self.setCookie,
                        value: "\(policy.cookieName)=\(policy.token); Path=/; HttpOnly; SameSite=Strict"))
            }
        }
        response.headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
            + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Cross-Origin-Resource-Policy")!] = "same-origin"
        return response
    }
}

extension ReviewServer {
    /// Runs the server on this thread until SIGINT or SIGTERM (for a command-line tool whose
    /// commands are synchronous); `onReady` gets the port once the server listens. Throws what
    /// the server threw (e.g. the port is taken).
    public func runBlocking(onReady: @escaping @Sendable (Int) -> Void) throws {
        let done = DispatchSemaphore(value: 0)
        let failure = FailureBox()
        let server = self
        Task.detached {
            do {
                try await server.run(handleSignals: true) { port in onReady(port) }
            } catch {
                failure.set(error)
            }
            done.signal()
        }
        done.wait()
        if let error = failure.get() { throw error }
    }
}

/// An error handed from the server's task to the waiting thread.
final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?
    func set(_ error: any Error) {
        lock.lock()
        self.error = error
        lock.unlock()
    }
    func get() -> (any Error)? {
        lock.lock()
        defer { lock.unlock() }
        return error
    }
}
