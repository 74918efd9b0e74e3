import Foundation
import GRDB
import GroundworkAnnotations
import GroundworkCore
import GroundworkDemo
import GroundworkStore
import GroundworkTestSupport
import Testing

@testable import GroundworkServer

#if canImport(Glibc)
    import Glibc
#endif

/// The demo project, made once; each test works on its own copy.
enum DemoProject {
    private static let made: Result<TemporaryFolder, any Error> = Result {
        let folder = TemporaryFolder()
        _ = try DemoPipeline.run(directory: folder.path + "/demo", showProgress: false)
        return folder
    }

    /// A fresh copy of the demo's project folder (removed with the returned folder).
    static func copy() throws -> (folder: TemporaryFolder, project: String) {
        let source = try made.get().path + "/demo/project"
        let folder = TemporaryFolder()
        try FileManager.default.copyItem(atPath: source, toPath: folder.path + "/project")
        return (folder, folder.path + "/project")
    }
}

/// One HTTP/1.1 exchange over a plain socket to 127.0.0.1 (the path is sent byte for byte, as a
/// hostile client would: no client-side `..` clean-up), bounded by a 60 s timeout.
struct RawResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// Sends on a thread of its own: a blocking read on one of the few cooperative threads could
/// starve the server under test, which runs on them too.
func send(
    port: Int, method: String = "GET", path: String, headers: [String: String] = [:], body: String? = nil,
    host: String? = nil
) async throws -> RawResponse {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(
                with: Result {
                    try sendBlocking(port: port, method: method, path: path, headers: headers, body: body, host: host)
                })
        }
    }
}

func sendBlocking(
    port: Int, method: String, path: String, headers: [String: String], body: String?, host: String?
) throws -> RawResponse {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    // Generous: a loaded 2-core machine running the whole suite can take seconds to answer.
    var timeout = timeval(tv_sec: 60, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    var request = "\(method) \(path) HTTP/1.1\r\nHost: \(host ?? "127.0.0.1:\(port)")\r\nConnection: close\r\n"
    for (name, value) in headers.sorted(by: { $0.key < $1.key }) { request += "\(name): \(value)\r\n" }
    let payload = Array((body ?? "").utf8)
    if body != nil { request += "Content-Length: \(payload.count)\r\n" }
    request += "\r\n"
    let bytes = Array(request.utf8) + payload
    var sent = 0
    while sent < bytes.count {
        let n = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { throw POSIXError(.EIO) }
        sent += n
    }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while received.count < 50_000_000 {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0, errno == EAGAIN || errno == EWOULDBLOCK { throw POSIXError(.ETIMEDOUT) }
        if n <= 0 { break }
        received += buffer[0..<n]
    }
    guard let split = received.firstRange(of: Array("\r\n\r\n".utf8)) else { throw POSIXError(.EBADMSG) }
    let head = String(decoding: received[..<split.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
    let status = Int(head[0].split(separator: " ")[1]) ?? 0
    let fields = head.dropFirst().compactMap { line -> (String, String)? in
        guard let colon = line.firstIndex(of: ":") else { return nil }
        return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }
    var content = Array(received[split.upperBound...])
    if fields.contains(where: { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased() == "chunked" }) {
        content = dechunk(content)
    }
    return RawResponse(status: status, headers: fields, body: content)
}

func dechunk(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var index = 0
    while index < bytes.count {
        guard let end = bytes[index...].firstRange(of: Array("\r\n".utf8)) else { break }
        let size = Int(String(decoding: bytes[index..<end.lowerBound], as: UTF8.self), radix: 16) ?? 0
        if size == 0 { break }
        out += bytes[end.upperBound..<min(bytes.count, end.upperBound + size)]
        index = end.upperBound + size + 2
    }
    return out
}

/// Runs a server on an ephemeral 127.0.0.1 port for the duration of `body`.
func withServer(
    _ project: Project, readOnly: Bool = false, token: String = "t0k3n-for-tests", _ body: (Int) async throws -> Void
) async throws {
    let server = ReviewServer(
        project: project, options: ServerOptions(host: "127.0.0.1", port: 0, readOnly: readOnly, token: token))
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let task = Task {
        defer { continuation.finish() }  // a server that fails to start ends the wait for its port
        try await server.run(handleSignals: false) { port in continuation.yield(port) }
    }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next() else { throw POSIXError(.EIO) }
    do {
        try await body(port)
    } catch {
        task.cancel()
        _ = await task.result
        throw error
    }
    task.cancel()
    _ = await task.result
}

let token = "t0k3n-for-tests"

func jsonObject(_ response: RawResponse) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
}

@Suite("groundwork serve: access, CSRF, objects, reviews", .serialized)
struct ServerTests {
    @Test("every request without the token is refused with 403, whatever its path")
    func tokenRequired() async throws {
        let (folder, root) = try DemoProject.copy()
        _ = folder
        let project = try Project.open(at: root)
        let sha = try await project.database.read {
            try String.fetchOne($0, sql: "SELECT sha256 FROM image ORDER BY id LIMIT 1")!
        }
        try await withServer(project) { port in
            for path in [
                "/", "/app.js", "/api/images", "/api/images/1", "/api/images/1/view", "/objects/\(sha)", "/no/such/page",
                "/objects/../groundwork.sqlite", "/../../etc/passwd", "/?token=wrong",
            ] {
                let response = try await send(port: port, path: path)
                #expect(response.status == 403, "\(path): \(response.status)")
                #expect(!response.text.contains("SQLite format"))
            }
            let wrongHeader = try await send(port: port, path: "/api/images", headers: ["X-Groundwork-Token": "nope"])
            #expect(wrongHeader.status == 403)
            let wrongCookie = try await send(
                port: port, path: "/api/images", headers: ["Cookie": "groundwork-token-\(port)=nope"])
            #expect(wrongCookie.status == 403)
        }
    }

    @Test("the token in the URL becomes an HttpOnly, SameSite cookie and leaves the address bar")
    func tokenCookie() async throws {
        let (folder, root) = try DemoProject.copy()
        _ = folder
        let project = try Project.open(at: root)
        try await withServer(project) { port in
            let first = try await send(port: port, path: "/?token=\(token)")
            #expect(first.status == 303)
            #expect(first.header("Location") == "/")
            let cookie = try #require(first.header("Set-Cookie"))
            #expect(cookie.hasPrefix("groundwork-token-\(port)=\(token);"))
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
            let page = try await send(port: port, path: "/", headers: ["Cookie": "groundwork-token-\(port)=\(token)"])
            #expect(page.status == 200)
            #expect(page.text.contains("<meta name=\"groundwork-token\" content=\"\(token)\">"))
            #expect(page.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
            #expect(page.header("X-Frame-Options") == "DENY")
            // Offline: the page names nothing outside this server.
            let script = try await send(port: port, path: "/app.js", headers: ["Cookie": "groundwork-token-\(port)=\(token)"])
            // (The SVG namespace is a name, not an address anything is fetched from.)
            for text in [page.text, script.text.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")] {
                #expect(!text.contains("http://") && !text.contains("https://") && !text.contains("//cdn"))
            }
        }
    }

    @Test("a Host header that is not this loopback address and port is refused (DNS rebinding)")
    func hostChecked() async throws {
        let (folder, root) = try DemoProject.copy()
        _ = folder
        let project = try Project.open(at: root)
        try await withServer(project) { port in
            let evil = try await send(
                port: port, path: "/api/images", headers: ["X-Groundwork-Token": token], host: "evil.example:\(port)")
            #expect(evil.status == 403)
            let otherPort = try await send(
                port: port, path: "/api/images", headers: ["X-Groundwork-Token": token], host: "127.0.0.1:\(port + 1)")
            #expect(otherPort.status == 403)
            let localhost = try await send(
                port: port, path: "/api/images", headers: ["X-Groundwork-Token": token], host: "localhost:\(port)")
            #expect(localhost.status == 200)
        }
    }

    @Test("objects are served by hash only: image hashes answer, paths never reach the file system")
    func objectsByHash() async throws {
        let (folder, root) = try DemoProject.copy()
        _ = folder
        let project = try Project.open(at: root)
        let sha = try await project.database.read {
            try String.fetchOne($0, sql: "SELECT sha256 FROM image ORDER BY id LIMIT 1")!
        }
        let stored = try FileIO.readAll(project.objects.path(for: sha))
        let auth = ["X-Groundwork-Token": token]
        try await withServer(project) { port in
            let object = try await send(port: port, path: "/objects/\(sha)", headers: auth)
            #expect(object.status == 200)
            #expect(object.body == stored)
            for path in [
                "/objects/../groundwork.sqlite", "/objects/..%2Fgroundwork.sqlite", "/objects/%2e%2e/groundwork.sqlite",
                "/objects/\(sha.uppercased())", "/objects/\(sha.prefix(2))/\(sha.dropFirst(2))",
                "/objects/" + String(repeating: "0", count: 64),
                "/app.js/../../groundwork.sqlite", "/../groundwork.sqlite", "/objects/\(sha)/../../groundwork.sqlite",
                "/api/images/1/../../../groundwork.sqlite",
            ] {
                let response = try await send(port: port, path: path, headers: auth)
                #expect(response.status == 404 || response.status == 400, "\(path): \(response.status)")
                #expect(!response.text.contains("SQLite format"), "\(path)")
            }
        }
    }

    @Test("the grid, its filters and an image's detail come from the project's tables")
    func browsing() async throws {
        let (folder, root) = try DemoProject.copy()
        _ = folder
        let project = try Project.open(at: root)
        let auth = ["X-Groundwork-Token": token]
        let (images, ctImages, regions) = try await project.database.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM image")!,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM image WHERE modality = 'CT'")!,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM region WHERE image_id = 1")!
            )
        }
        try await withServer(project) { port in
            let all = jsonObject(try await send(port: port, path: "/api/images", headers: auth))
            #expect(all["total"] as? Int == images)
            let ct = jsonObject(try await send(port: port, path: "/api/images?modality=CT", headers: auth))
            #expect(ct["total"] as? Int == ctImages)
            let none = jsonObject(try await send(port: port, path: "/api/images?modality=XX", headers: auth))
            #expect(none["total"] as? Int == 0)
            let pending = jsonObject(try await send(port: port, path: "/api/images?review=pending", headers: auth))
            #expect(pending["total"] as? Int == images)
            let bad = try await send(port: port, path: "/api/images?review=maybe", headers: auth)
            #expect(bad.status == 400)
            let split = jsonObject(try await send(port: port, path: "/api/images?split=default", headers: auth))
            #expect(split["total"] as? Int == images)
            // The demo's split puts images in train and in test, and every image in one of them.
            var inParts: [Int] = []
            for part in ["train", "test"] {
                let page = jsonObject(
                    try await send(port: port, path: "/api/images?split=default&part=\(part)", headers: auth))
                inParts.append(page["total"] as? Int ?? -1)
            }
            #expect(inParts.allSatisfy { $0 > 0 })
            #expect(inParts.reduce(0, +) == images)
            let noPart = jsonObject(try await send(port: port, path: "/api/images?split=default&part=nope", headers: auth))
            #expect(noPart["total"] as? Int == 0)
            let facets = jsonObject(try await send(port: port, path: "/api/facets", headers: auth))
            #expect((facets["annotators"] as? [String])?.contains("radiologist-1") == true)
            let detail = jsonObject(try await send(port: port, path: "/api/images/1", headers: auth))
            #expect((detail["regions"] as? [Any])?.count == regions)
            #expect((detail["questions"] as? [[String: Any]])?.isEmpty == false)
            let view = try await send(port: port, path: "/api/images/1/view", headers: auth)
            #expect(view.status == 200 && view.body.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            let thumbnail = try await send(port: port, path: "/api/images/1/thumbnail", headers: auth)
            #expect(thumbnail.status == 200 && thumbnail.body.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            let unknownWindow = try await send(port: port, path: "/api/images/1/view?window=lung", headers: auth)
            #expect(unknownWindow.status == 400)
            #expect(try await send(port: port, path: "/api/images/99999", headers: auth).status == 404)
        }
    }

    /// A same-origin review request as the page sends it.
    static func review(_ port: Int, _ path: String, _ body: String, extra: [String: String] = [:]) async throws -> RawResponse {
        var headers = [
            "X-Groundwork-Token": token, "Content-Type": "application/json", "Origin": "http://127.0.0.1:\(port)",
            "Sec-Fetch-Site": "same-origin",
        ]
        for (key, value) in extra { headers[key] = value }
        headers = headers.filter { !$0.value.isEmpty }
        return try await send(port: port, method: "POST", path: path, headers: headers, body: body)
    }

    @Test("changes need the token in a header, this origin and JSON: cross-site requests change nothing")
    func csrf() async throws {
        let (folder, root) = try DemoProject.copy()
        _ = folder
        let project = try Project.open(at: root)
        let body = #"{"status": "reviewed", "version": 0, "reviewer": "Dr Test"}"#
        try await withServer(project) { port in
            let cookie = "groundwork-token-\(port)=\(token)"
            let refused: [[String: String]] = [
                ["X-Groundwork-Token": "", "Cookie": cookie],  // a cross-site form carries the cookie only
                ["Origin": "http://evil.example"],
                ["Origin": "null"],
                ["Sec-Fetch-Site": "cross-site"],
                ["Sec-Fetch-Site": "same-site"],
                ["Content-Type": "text/plain"],
                ["Content-Type": "application/x-www-form-urlencoded"],
            ]
            for extra in refused {
                let response = try await Self.review(port, "/api/regions/1/review", body, extra: extra)
                #expect(response.status == 403, "\(extra): \(response.status) \(response.text)")
            }
            let viaGet = try await send(port: port, path: "/api/regions/1/review?token=\(token)")
            #expect(viaGet.status == 404 || viaGet.status == 405)
            #expect(
                try await project.database.read { try String.fetchOne($0, sql: "SELECT status FROM region WHERE id = 1") }
                    == "draft")
            let accepted = try await Self.review(port, "/api/regions/1/review", body)
            #expect(accepted.status == 200, "\(accepted.text)")
        }
        let row = try project.database.read { try Row.fetchOne($0, sql: "SELECT * FROM region WHERE id = 1")! }
        #expect(row["status"] as String == "reviewed")
        #expect(row["reviewed_by"] as String? == "Dr Test")
        #expect(row["review_version"] as Int == 1)
        #expect((row["reviewed_at"] as String?)?.hasSuffix("Z") == true)
    }

    @Test("two reviewers on one item: the second, on a stale version, gets 409 and changes nothing")
    func conflict() async throws {
        let (folder, root) = try DemoProject.copy()
        _ = folder
        let project = try Project.open(at: root)
        try await withServer(project) { port in
            let first = try await Self.review(
                port, "/api/questions/1/review", #"{"status": "reviewed", "version": 0, "reviewer": "A"}"#)
            #expect(first.status == 200)
            let second = try await Self.review(
                port, "/api/questions/1/review", #"{"status": "rejected", "version": 0, "reviewer": "B"}"#)
            #expect(second.status == 409)
            let conflict = jsonObject(second)["conflict"] as? [String: Any]
            #expect(conflict?["reviewedBy"] as? String == "A")
            #expect(conflict?["version"] as? Int == 1)
            let retry = try await Self.review(
                port, "/api/questions/1/review", #"{"status": "rejected", "version": 1, "reviewer": "B"}"#)
            #expect(retry.status == 200)
            let missing = try await Self.review(
                port, "/api/questions/999999/review", #"{"status": "rejected", "version": 0, "reviewer": "B"}"#)
            #expect(missing.status == 404)
            let noName = try await Self.review(
                port, "/api/questions/2/review", #"{"status": "rejected", "version": 0, "reviewer": "  "}"#)
            #expect(noName.status == 422)
            let badStatus = try await Self.review(
                port, "/api/questions/2/review", #"{"status": "great", "version": 0, "reviewer": "B"}"#)
            #expect(badStatus.status == 400)
        }
        let row = try project.database.read { try Row.fetchOne($0, sql: "SELECT * FROM vqa_item WHERE id = 1")! }
        #expect(row["status"] as String == "rejected" && row["reviewed_by"] as String == "B" && row["review_version"] as Int == 2)
        #expect(
            try await project.database.read { try String.fetchOne($0, sql: "SELECT status FROM vqa_item WHERE id = 2") }
                == "draft")
    }

    @Test("burned-in flags: cleared or confirmed with who and when, stale versions refused, never-flagged not cleared")
    func flags() async throws {
        let (folder, root) = try DemoProject.copy()
        _ = folder
        let project = try Project.open(at: root)
        try await project.database.write { db in
            try db.execute(sql: "UPDATE image SET review_flag = 'flagged', review_reason = 'secondary capture' WHERE id = 2")
        }
        try await withServer(project) { port in
            let clear = try await Self.review(
                port, "/api/images/2/flag", #"{"decision": "clear", "version": 0, "reviewer": "Curator"}"#)
            #expect(clear.status == 200, "\(clear.text)")
            let stale = try await Self.review(
                port, "/api/images/2/flag", #"{"decision": "confirm", "version": 0, "reviewer": "Other"}"#)
            #expect(stale.status == 409)
            let never = try await Self.review(
                port, "/api/images/3/flag", #"{"decision": "clear", "version": 0, "reviewer": "Curator"}"#)
            #expect(never.status == 422)
            let flagged = jsonObject(
                try await send(port: port, path: "/api/images?flag=cleared", headers: ["X-Groundwork-Token": token]))
            #expect(flagged["total"] as? Int == 1)
        }
        let row = try project.database.read { try Row.fetchOne($0, sql: "SELECT * FROM image WHERE id = 2")! }
        #expect(row["review_flag"] as String == "cleared" && row["flag_reviewed_by"] as String == "Curator")
        #expect(row["flag_version"] as Int == 1)
        #expect(
            try await project.database.read { try String.fetchOne($0, sql: "SELECT review_flag FROM image WHERE id = 3") } == nil)
    }

    @Test("--read-only refuses every change, token or not, and the project keeps every byte")
    func readOnly() async throws {
        let (folder, root) = try DemoProject.copy()
        _ = folder
        let before = try FileIO.readAll(root + "/groundwork.sqlite")
        let project = try Project.open(at: root, access: .readOnly)
        try await withServer(project, readOnly: true) { port in
            #expect(try await send(port: port, path: "/api/images/1", headers: ["X-Groundwork-Token": token]).status == 200)
            for (path, body) in [
                ("/api/regions/1/review", #"{"status": "reviewed", "version": 0, "reviewer": "A"}"#),
                ("/api/questions/1/review", #"{"status": "reviewed", "version": 0, "reviewer": "A"}"#),
                ("/api/images/1/flag", #"{"decision": "confirm", "version": 0, "reviewer": "A"}"#),
            ] {
                let response = try await Self.review(port, path, body)
                #expect(response.status == 403)
                #expect(response.text.contains("read-only"))
            }
        }
        project.close()
        #expect(try FileIO.readAll(root + "/groundwork.sqlite") == before)
    }
}

@Suite("The access policy")
struct AccessPolicyTests {
    let policy = AccessPolicy(token: "secret", readOnly: false, port: 8765, loopbackOnly: true)

    @Test("reads need the token in the query, a header or the cookie; the query sets the cookie")
    func reads() {
        let host = "127.0.0.1:8765"
        #expect(policy.decide(.init(method: "GET", host: host)) != .allow(setCookie: false))
        #expect(policy.decide(.init(method: "GET", host: host, queryToken: "secret")) == .allow(setCookie: true))
        #expect(policy.decide(.init(method: "GET", host: host, headerToken: "secret")) == .allow(setCookie: false))
        #expect(policy.decide(.init(method: "GET", host: host, cookieToken: "secret")) == .allow(setCookie: false))
        #expect(policy.decide(.init(method: "GET", host: host, queryToken: "secreT")) != .allow(setCookie: true))
        #expect(policy.decide(.init(method: "GET", host: "[::1]:8765", cookieToken: "secret")) == .allow(setCookie: false))
        #expect(
            policy.decide(.init(method: "GET", host: "attacker.example:8765", cookieToken: "secret")) != .allow(setCookie: false))
    }

    @Test("changes need the header token, no foreign origin or site, JSON; read-only refuses them all")
    func changes() {
        let host = "127.0.0.1:8765"
        let good = AccessPolicy.Request(
            method: "POST", host: host, origin: "http://127.0.0.1:8765", secFetchSite: "same-origin",
            contentType: "application/json", headerToken: "secret")
        #expect(policy.decide(good) == .allow(setCookie: false))
        var cookieOnly = good
        cookieOnly.headerToken = nil
        cookieOnly.cookieToken = "secret"
        #expect(policy.decide(cookieOnly) != .allow(setCookie: false))
        var queryOnly = good
        queryOnly.headerToken = nil
        queryOnly.queryToken = "secret"
        #expect(policy.decide(queryOnly) != .allow(setCookie: false))
        var foreign = good
        foreign.origin = "http://127.0.0.1:9999"
        #expect(policy.decide(foreign) != .allow(setCookie: false))
        var site = good
        site.secFetchSite = "cross-site"
        #expect(policy.decide(site) != .allow(setCookie: false))
        var form = good
        form.contentType = "multipart/form-data"
        #expect(policy.decide(form) != .allow(setCookie: false))
        let locked = AccessPolicy(token: "secret", readOnly: true, port: 8765, loopbackOnly: true)
        #expect(locked.decide(good) != .allow(setCookie: false))
        #expect(locked.decide(.init(method: "GET", host: host, headerToken: "secret")) == .allow(setCookie: false))
    }

    @Test("random tokens are 64 hex digits and differ")
    func tokens() {
        let a = AccessPolicy.randomToken()
        let b = AccessPolicy.randomToken()
        #expect(a.count == 64 && a != b && a.allSatisfy(\.isHexDigit))
    }

    @Test("the printed URL names a reachable address and carries the token")
    func url() {
        #expect(ReviewServer.url(host: "127.0.0.1", port: 8765, token: "abc") == "http://127.0.0.1:8765/?token=abc")
        #expect(ReviewServer.url(host: "0.0.0.0", port: 80, token: "abc") == "http://127.0.0.1:80/?token=abc")
        #expect(ReviewServer.url(host: "::1", port: 80, token: "abc") == "http://[::1]:80/?token=abc")
        #expect(AccessPolicy.isLoopback("127.0.0.1") && AccessPolicy.isLoopback("localhost"))
        #expect(!AccessPolicy.isLoopback("0.0.0.0") && !AccessPolicy.isLoopback("192.168.1.2"))
    }
}

@Suite("Reviews record who and when")
struct ReviewRecordTests {
    @Test("Review.setStatus records the reviewer, the time and a version; a stale version changes nothing")
    func setStatus() throws {
        let (folder, root) = try DemoProject.copy()
        _ = folder
        let project = try Project.open(at: root)
        let date = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(try Review.setStatus(.rejected, ids: [1, 2], table: .region, project: project, reviewer: "R", at: date) == 2)
        #expect(try Review.setStatus(.rejected, ids: [1], table: .region, project: project, reviewer: "S", at: date) == 0)
        let rows = try project.database.read { try Row.fetchAll($0, sql: "SELECT * FROM region WHERE id IN (1, 2) ORDER BY id") }
        for row in rows {
            #expect(row["reviewed_by"] as String == "R" && row["reviewed_at"] as String == "2027-01-15T08:00:00.000Z")
            #expect(row["review_version"] as Int == 1)
        }
        #expect(throws: ReviewConflict.self) {
            try Review.setStatus(
                .reviewed, ids: [1, 2], table: .region, project: project, reviewer: "S", expectedVersions: [1: 1, 2: 0])
        }
        #expect(
            try project.database.read { try String.fetchOne($0, sql: "SELECT status FROM region WHERE id = 1") } == "rejected")
        #expect(throws: DiagnosticsError.self) { try Review.reviewerName("") }
        #expect(throws: DiagnosticsError.self) { try Review.reviewerName("a\nb") }
        #expect(try Review.reviewerName("  Dr Who ") == "Dr Who")
    }

    @Test("BurnedInReview: all or nothing over several images")
    func burnedIn() throws {
        let (folder, root) = try DemoProject.copy()
        _ = folder
        let project = try Project.open(at: root)
        try project.database.write { try $0.execute(sql: "UPDATE image SET review_flag = 'flagged' WHERE id = 1") }
        #expect(throws: DiagnosticsError.self) {
            try BurnedInReview.apply(.clear, imageIds: [1, 2], project: project, reviewer: "C")
        }
        #expect(
            try project.database.read { try String.fetchOne($0, sql: "SELECT review_flag FROM image WHERE id = 1") } == "flagged")
        let confirmed = try BurnedInReview.apply(.confirm, imageIds: [1, 2], project: project, reviewer: "C")
        #expect(confirmed.map(\.flag) == ["flagged", "flagged"])
        #expect(confirmed.map(\.previous) == ["flagged", nil])
        let reason = try project.database.read { try String.fetchOne($0, sql: "SELECT review_reason FROM image WHERE id = 2") }
        #expect(reason == BurnedInReview.reviewerReason)
        let cleared = try BurnedInReview.apply(.clear, imageIds: [2], project: project, reviewer: "D", expectedVersions: [2: 1])
        #expect(cleared.first?.flag == "cleared" && cleared.first?.version == 2)
    }
}
