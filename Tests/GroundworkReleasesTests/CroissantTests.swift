import Crypto
import Foundation
import GRDB
import GroundworkCore
import GroundworkReleases
import GroundworkStore
import Testing

/// Every export's `croissant.json`: valid Croissant 1.1 by mlcroissant (offline), its record sets
/// exactly the release's rows and boxes, its files' SHA-256 those on disk, its RAI fields from the
/// release's statement and from the project.
@Suite struct CroissantTests {
    /// The complete statement the RAI tests cut releases with.
    static let statementYAML = """
        name: Groundwork test benchmark
        description: Phantom CT and MR slices with expert boxes, polygons and masks.
        url: https://example.org/groundwork-test
        creators:
          - name: Ada Lovelace
            affiliation: Analytical Engines
            email: ada@example.org
          - name: Alan Turing
        citation: "@misc{gw-test, title={Groundwork test benchmark}}"
        data_collection: Synthetic phantoms generated from seeded blobs.
        annotation_process: One annotator drew every region; a second reviewed them.
        annotators: Two radiology residents (annotator, reviewer).
        limitations: Phantoms, not patients.
        biases: No population is represented.
        personal_sensitive_information: None; the images are synthetic.
        intended_use: Testing grounding metrics; not for clinical use.
        """

    /// Runs `mlcroissant validate` on the export's `croissant.json` (offline: any network access
    /// fails through a dead proxy), then iterates every record set with mlcroissant; returns the
    /// records by record set, field names without their record set's prefix.
    static func loadWithMLCroissant(_ folder: String, scratch: String, citationMissing: Bool) throws -> [String: [[String:
        JSONValue]]]
    {
        let script = """
            import json, os, subprocess, sys
            import mlcroissant as mlc
            folder, out, citation_missing = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
            path = os.path.join(folder, "croissant.json")
            cli = os.path.join(os.path.dirname(sys.executable), "mlcroissant")
            checked = subprocess.run([cli, "validate", "--jsonld", path], capture_output=True, text=True)
            assert checked.returncode == 0, checked.stderr
            ds = mlc.Dataset(jsonld=path)
            issues = ds.metadata.ctx.issues
            # The one warning allowed: no citation, when the release has none (its RAI status says so).
            allowed = [w for w in issues.warnings if citation_missing and "croissant/citeAs" in w]
            assert not issues.errors and len(issues.warnings) == len(allowed), (issues.errors, issues.warnings)
            def plain(v):
                if isinstance(v, bytes): return v.decode()
                if isinstance(v, (list, tuple)): return [plain(x) for x in v]
                if hasattr(v, "tolist"): return plain(v.tolist())
                if isinstance(v, float) and v != v: return None
                return v
            records = {}
            for name in ["splits", "images", "regions", "questions"]:
                records[name] = [{k.split("/", 1)[1]: plain(v) for k, v in r.items()} for r in ds.records(record_set=name)]
            with open(out, "w") as f: json.dump(records, f)
            """
        let out = scratch + "/records-\(UUID().uuidString).json"
        let dead = "http://127.0.0.1:9"
        let result = try runPython(
            script, [folder, out, citationMissing ? "1" : "0"],
            environment: ["HTTP_PROXY": dead, "HTTPS_PROXY": dead, "http_proxy": dead, "https_proxy": dead])
        guard result.status == 0 else { throw FixtureError("mlcroissant failed on \(folder):\n\(result.output)") }
        let parsed = try JSONValue.parse(try FileIO.readAll(out))
        var records: [String: [[String: JSONValue]]] = [:]
        for (name, list) in parsed.objectValue ?? [] {
            records[name] = (list.arrayValue ?? []).map {
                Dictionary(($0.objectValue ?? []).map { ($0.key, $0.value) }) { a, _ in a }
            }
        }
        return records
    }

    static func sha256(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }

    @Test(
        .enabled(if: pythonCrossChecks, "set GROUNDWORK_PYTHON to a python with mlcroissant (tools/test does)"),
        arguments: ExportFormat.allCases)
    func mlcroissantValidatesEveryFormatAndReadsExactlyTheRelease(_ format: ExportFormat) throws {
        let fixture = try FormatFixture()
        let reference = fixture.folder.path + "/reference"
        _ = try Exporter.export(fixture.project, version: "1.0.0", format: .jsonl, out: reference)
        let summary = try ReleaseCatalog.show(fixture.project, version: "1.0.0")
        // The reference rows: every question line of the jsonl export, with its regions' boxes.
        var rows: [String: JSONValue] = [:]
        for part in summary.splits {
            for line in try jsonLines("\(reference)/\(part.split).jsonl") { rows[line["id"]!.stringValue!] = line }
        }

        for images in [ImageMode.copy, .none] {
            let out = fixture.folder.path + "/\(format.rawValue)-\(images.rawValue)"
            let report = try Exporter.export(fixture.project, version: "1.0.0", format: format, out: out, images: images)
            #expect(report.rai == RAIStatus(provided: false, missing: RAIStatement.expectedFields))
            let records = try Self.loadWithMLCroissant(
                out, scratch: fixture.folder.path, citationMissing: report.rai.missing.contains("citation"))

            // Splits: the release's parts and counts.
            let splits = records["splits"] ?? []
            #expect(splits.map { $0["name"]?.stringValue ?? "" } == summary.splits.map(\.split))
            #expect(splits.map { $0["questions"]?.intValue ?? -1 } == summary.splits.map(\.questions))
            #expect(splits.map { $0["regions"]?.intValue ?? -1 } == summary.splits.map(\.regions))

            // Images: every released image once, each file the export holds named with its SHA-256.
            let imageRecords = records["images"] ?? []
            #expect(imageRecords.count == summary.splits.reduce(0) { $0 + $1.images })
            var shaOfImage: [Int: String] = [:]
            var files = 0
            for image in imageRecords {
                shaOfImage[image["id"]?.intValue ?? -1] = image["sha256"]?.stringValue
                if let file = image["file"]?.stringValue {
                    files += 1
                    #expect(Self.sha256(try FileIO.readAll("\(out)/\(file)")) == image["file_sha256"]?.stringValue)
                } else {
                    #expect(image["file_sha256"]?.isNull == true)
                }
            }
            #expect(files == report.imagesWritten, "\(format) \(images)")

            // Regions: exactly the released regions and their boxes, XYXY in the one convention.
            let regions = records["regions"] ?? []
            let keys = regions.map { region in
                FormatFixture.RegionKey(
                    sha256: shaOfImage[region["image_id"]?.intValue ?? -1] ?? "?", label: region["label"]?.stringValue ?? "?",
                    box: region["bbox"]?.arrayValue?.compactMap(\.doubleValue) ?? [])
            }.sorted()
            #expect(keys.count == fixture.regions.count)
            for (got, expected) in zip(keys, fixture.regions) { #expect(got.matches(expected), "\(got) vs \(expected)") }
            var boxOfRegion: [String: [Double]] = [:]
            for region in regions {
                boxOfRegion[String(region["id"]?.intValue ?? -1)] = region["bbox"]?.arrayValue?.compactMap(\.doubleValue)
            }

            // Questions: exactly the export's rows, each with its target regions and their boxes.
            let questions = records["questions"] ?? []
            #expect(questions.count == rows.count)
            #expect(Set(questions.map { String($0["id"]?.intValue ?? -1) }) == Set(rows.keys))
            for question in questions {
                let id = String(question["id"]?.intValue ?? -1)
                guard let row = rows[id] else { continue }
                #expect(question["split"] == row["split"])
                #expect(question["question"] == row["question"])
                #expect(question["answer"] == row["answer"])
                #expect(question["groundable"] == row["groundable"])
                let targets = (question["target_region_ids"]?.arrayValue ?? []).map { String($0.intValue ?? -1) }
                let expected = (row["regions"]?.arrayValue ?? []).map { $0["id"]?.stringValue ?? "" }
                #expect(targets == expected, "question \(id)")
                for region in row["regions"]?.arrayValue ?? [] {
                    let box = region["bbox"]?.arrayValue?.compactMap(\.doubleValue)
                    #expect(boxOfRegion[region["id"]?.stringValue ?? ""] == box, "question \(id)")
                }
            }

            // Files: every FileObject's SHA-256 and size are the file's, and every file of the export
            // but croissant.json and manifest.json is a FileObject or in a FileSet.
            let croissant = try JSONValue.parse(try FileIO.readAll(out + "/croissant.json"))
            var covered = Set<String>()
            var patterns: [String] = []
            for entry in croissant["distribution"]?.arrayValue ?? [] {
                if entry["@type"]?.stringValue == "cr:FileObject", let path = entry["contentUrl"]?.stringValue {
                    let bytes = try FileIO.readAll("\(out)/\(path)")
                    #expect(Self.sha256(bytes) == entry["sha256"]?.stringValue, "\(path)")
                    #expect(entry["contentSize"]?.stringValue == "\(bytes.count) B")
                    covered.insert(path)
                } else if let glob = entry["includes"]?.stringValue {
                    patterns.append(glob)
                }
            }
            for path in try filesUnder(out).keys where path != "croissant.json" && path != "manifest.json" {
                let inSet = patterns.contains { glob in
                    fnmatch(glob.replacingOccurrences(of: "**/", with: "*/"), path, 0) == 0
                }
                #expect(covered.contains(path) || inSet, "\(format): \(path) is not described")
            }
        }
    }

    @Test func raiStatementGoesIntoCroissantAndNotIntoTheContentHash() throws {
        let fixture = try FormatFixture()
        let statement = try RAIStatement.parse(yaml: Self.statementYAML, file: "rai.yaml")
        #expect(statement.missing.isEmpty)
        let with = try ReleaseBuilder.create(
            fixture.project, request: ReleaseRequest(version: SemanticVersion("1.1.0"), rai: statement))
        let without = try ReleaseCatalog.show(fixture.project, version: "1.0.0")
        // The same content: the same hash, whatever the statement says.
        #expect(with.contentHash == without.contentHash)
        #expect(with.rai == RAIStatus(provided: true, missing: []))
        #expect(without.rai.missing == RAIStatement.expectedFields)

        let out = fixture.folder.path + "/with"
        let report = try Exporter.export(fixture.project, version: "1.1.0", format: .coco, out: out)
        #expect(report.rai.missing.isEmpty)
        let croissant = try JSONValue.parse(try FileIO.readAll(out + "/croissant.json"))
        #expect(croissant["name"]?.stringValue == "Groundwork test benchmark")
        #expect(croissant["version"]?.stringValue == "1.1.0")
        #expect(croissant["datePublished"]?.stringValue == with.created)
        #expect(croissant["citeAs"]?.stringValue == "@misc{gw-test, title={Groundwork test benchmark}}")
        #expect(croissant["license"]?.arrayValue == [.string("https://spdx.org/licenses/CC-BY-4.0.html")])
        #expect(croissant["creator"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["Ada Lovelace", "Alan Turing"])
        #expect(croissant["creator"]?[0]?["affiliation"]?["name"]?.stringValue == "Analytical Engines")
        #expect(croissant["rai:dataCollection"]?.stringValue == "Synthetic phantoms generated from seeded blobs.")
        #expect(croissant["rai:dataAnnotationProtocol"]?.stringValue?.hasPrefix("One annotator") == true)
        #expect(croissant["rai:annotatorDemographics"]?.stringValue?.contains("residents") == true)
        #expect(croissant["rai:dataBiases"]?.stringValue == "No population is represented.")
        #expect(croissant["rai:dataUseCases"]?.stringValue?.contains("not for clinical use") == true)
        let limitations = croissant["rai:dataLimitations"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(limitations.first == "Phantoms, not patients.")
        #expect(limitations.contains { $0.hasPrefix("Leakage across parts:") })
        let sensitive = croissant["rai:personalSensitiveInformation"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(sensitive.first == "None; the images are synthetic.")
        // PNG imports: not de-identified by Groundwork, and said so.
        #expect(sensitive.contains { $0.hasPrefix("8 image(s) not de-identified by Groundwork") })
        // Review status counts: the COCO import's regions and questions are drafts.
        let analysis = croissant["rai:dataAnnotationAnalysis"]?.stringValue ?? ""
        #expect(analysis.contains("regions \(fixture.regions.count) draft"), "\(analysis)")
        #expect(analysis.contains("1 named annotator(s)"), "\(analysis)")

        // Without a statement: defaults, and only what the project knows.
        let plain = fixture.folder.path + "/plain"
        _ = try Exporter.export(fixture.project, version: "1.0.0", format: .coco, out: plain)
        let bare = try JSONValue.parse(try FileIO.readAll(plain + "/croissant.json"))
        #expect(bare["name"]?.stringValue == "Groundwork release 1.0.0")
        #expect(bare["creator"] == nil && bare["rai:dataCollection"] == nil && bare["citeAs"] == nil)
        #expect(bare["rai:dataLimitations"]?.arrayValue?.count == 1)
    }

    @Test func projectFactsNameRestrictedSourcesCitationsAndWaivers() throws {
        let fixture = try FormatFixture(restricted: true)
        _ = try SourcePolicy.set(
            fixture.project, name: "test-source", license: nil, restricted: nil, citation: "Test source, 2026.")
        // Two images as a DICOM import with --deidentify records them (the render record's
        // `deidentification`: the profile and the options chosen).
        let profile = "PS3.15 E.1 Basic Application Level Confidentiality Profile"
        try fixture.project.database.write { db in
            try db.execute(
                sql: "UPDATE image SET render = ? WHERE id IN (SELECT id FROM image ORDER BY id LIMIT 2)",
                arguments: [
                    #"{"deidentification":{"options":["retain-longitudinal-dates"],"profile":"\#(profile)","uids_replaced":3}}"#
                ])
        }
        _ = try ReleaseBuilder.create(
            fixture.project,
            request: ReleaseRequest(version: SemanticVersion("1.1.0"), leakageWaiver: "phantoms share no patient"))
        let out = fixture.folder.path + "/out"
        let report = try Exporter.export(fixture.project, version: "1.1.0", format: .jsonl, out: out)
        #expect(report.imagesByReference == 8)
        let croissant = try JSONValue.parse(try FileIO.readAll(out + "/croissant.json"))
        let sensitive = croissant["rai:personalSensitiveInformation"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(sensitive.contains { $0.contains("Restricted sources") && $0.contains("test-source (8 image(s))") })
        #expect(sensitive.contains("2 image(s) de-identified on import: \(profile); options: retain-longitudinal-dates."))
        #expect(sensitive.contains { $0.hasPrefix("6 image(s) not de-identified by Groundwork") })
        let limitations = croissant["rai:dataLimitations"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(limitations.contains("Released despite leakage, waived for this reason: phantoms share no patient"))
        // The source's citation, frozen with the release, is the dataset's citation.
        #expect(croissant["citeAs"]?.stringValue == "Test source, 2026.")
        #expect(croissant["isBasedOn"]?[0]?["citation"]?.stringValue == "Test source, 2026.")
        // No image file: every image record says so.
        let images = try JSONValue.parse(try FileIO.readAll(out + "/croissant/images.json")).arrayValue ?? []
        #expect(images.count == 8)
        #expect(images.allSatisfy { $0["file"]?.isNull == true && $0["restricted"]?.boolValue == true })
        #expect(images.filter { $0["deidentification"]?.stringValue?.hasPrefix(profile) == true }.count == 2)
        // A later citation does not change what the release recorded.
        _ = try SourcePolicy.set(fixture.project, name: "test-source", license: nil, restricted: nil, citation: "Changed.")
        let again = fixture.folder.path + "/again"
        _ = try Exporter.export(fixture.project, version: "1.1.0", format: .jsonl, out: again)
        #expect(try FileIO.readAll(again + "/croissant.json") == (try FileIO.readAll(out + "/croissant.json")))
    }

    @Test func badStatementsAreRefusedWithEveryProblemLocated() throws {
        let text = """
            description: ok
            limitation: misspelt
            biases: "  "
            creators:
              - name: Ada
                role: annotator
            """
        do {
            _ = try RAIStatement.parse(yaml: text, file: "rai.yaml")
            Issue.record("accepted a bad statement")
        } catch let error as DiagnosticsError {
            let found = error.diagnostics.map { "\($0.location) \($0.code)" }
            #expect(
                found == ["line 2, column 1 unknown_key", "line 3, column 1 empty_value", "line 6, column 5 unknown_key"],
                "\(error.diagnostics)")
            #expect(error.diagnostics.allSatisfy { $0.file == "rai.yaml" })
        }
        // A value of the wrong type: located where it is.
        do {
            _ = try RAIStatement.parse(yaml: "description: ok\ncreators: Ada\n", file: "rai.yaml")
            Issue.record("accepted creators as a string")
        } catch let error as DiagnosticsError {
            #expect(error.diagnostics.count == 1)
            #expect(error.diagnostics.first?.location == .line(2, column: 11), "\(error.diagnostics)")
            #expect(error.diagnostics.first?.message.contains("/creators") == true)
        }
        // Not YAML at all.
        do {
            _ = try RAIStatement.parse(yaml: "description: [unclosed\n", file: "rai.yaml")
            Issue.record("accepted broken YAML")
        } catch let error as DiagnosticsError {
            #expect(error.diagnostics.first?.code == "yaml")
        }
        // A partial statement is accepted: what it leaves out is listed.
        let partial = try RAIStatement.parse(yaml: "description: ok\nbiases: none known\n", file: "rai.yaml")
        #expect(partial.missing == RAIStatement.expectedFields.filter { $0 != "description" && $0 != "biases" })
    }
}
