import Foundation
import GRDB
import GroundworkCore

/// The Croissant 1.1 metadata (JSON-LD, with the Responsible-AI vocabulary) that every export
/// writes beside its format's files, whatever the format: `croissant.json`, and the record sets it
/// describes as three JSON files under `croissant/` (`images.json`, `regions.json`,
/// `questions.json`: one array each, one record a line).
///
/// - The dataset: name, description, version, date published (the release's creation time, the
///   one wall-clock time of an export), the licence of every source (`license`, and per source in
///   `isBasedOn`), citation (`citeAs`), creators, the content hash (`identifier`).
/// - `distribution`: every file the format's writer wrote and the record-set files, found by
///   walking what the export folder recorded (never a list per format), each a `FileObject` with
///   its SHA-256 and size; image files as `FileSet`s by folder and extension (each image's file
///   and its SHA-256 are in the `images` record set).
/// - Record sets: `splits` (the release's parts, with counts, inline), `images`, `regions` (the
///   tight box as `cr:BoundingBox`, format `XYXY`: Groundwork's one convention, 0-based,
///   continuous, half-open `x0 y0 x1 y1` in pixels of the image as displayed), `questions` (with
///   their target regions' ids, whose union is the target).
/// - RAI: the release's statement (`release create --rai`) and what the project knows: the
///   de-identification of every image (method and options), restricted sources, leakage and its
///   waiver, the review status counts of regions and questions.
///
/// Record sets are JSON arrays read by JSON path rather than JSON Lines: mlcroissant reads JSON
/// Lines through pandas, which turns text such as an answer `"02"` into the number 2.
enum Croissant {
    /// The metadata file at the root of every export.
    static let fileName = "croissant.json"
    /// The folder of the record sets' files.
    static let folder = "croissant"
    static let imagesFile = "croissant/images.json"
    static let regionsFile = "croissant/regions.json"
    static let questionsFile = "croissant/questions.json"

    /// Writes the record sets' files and `croissant.json` into `folder`, after the format's files
    /// and the images; returns the release's RAI status (which fields the metadata lacks).
    static func write(_ release: ReleaseContent, imagePaths: [Int64: String], to folder: ExportFolder) throws -> RAIStatus {
        let summary = release.summary
        let record = try ReleaseCatalog.raiRecord(release.db, releaseId: release.releaseId)
        let written = Dictionary(folder.manifestEntries.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })

        // 1. The record sets' files.
        var deidentified: [String: Int] = [:]
        var notDeidentified = 0
        var images = try JSONArrayStream(folder.stream(imagesFile))
        try release.forEachImage(split: nil) { image in
            let method = deidentification(image)
            if let method { deidentified[method, default: 0] += 1 } else { notDeidentified += 1 }
            let path = imagePaths[image.id]
            let row: JSONValue = .object([
                ("id", .number(Double(image.id))), ("sha256", .string(image.sha256)), ("split", .string(image.split)),
                ("file", .optional(path)), ("file_sha256", .optional(path.flatMap { written[$0]?.sha256 })),
                ("format", .string(image.format)), ("width", .number(Double(image.width))),
                ("height", .number(Double(image.height))), ("modality", .optional(image.modality)),
                ("body_part", .optional(image.bodyPart)), ("source", .optional(image.source)),
                ("license", .optional(image.license)), ("restricted", .bool(image.restricted)),
                ("deidentification", .optional(method)),
            ])
            try images.append(row)
        }
        try images.close()

        var regionStatus: [String: Int] = [:]
        var annotators = Set<String>()
        var regions = try JSONArrayStream(folder.stream(regionsFile))
        try release.forEachRegion(split: nil) { region in
            regionStatus[region.status, default: 0] += 1
            if let annotator = region.annotator { annotators.insert(annotator) }
            let row: JSONValue = .object([
                ("id", .number(Double(region.id))), ("image_id", .number(Double(region.imageId))),
                ("label", .string(region.label)), ("kind", .string(region.kind)),
                ("bbox", .array([region.box.x0, region.box.y0, region.box.x1, region.box.y1].map(JSONValue.number))),
                ("area", .number(region.area)), ("iscrowd", .bool(region.iscrowd)),
                ("annotator", .optional(region.annotator)), ("status", .string(region.status)),
            ])
            try regions.append(row)
        }
        try regions.close()

        var questionStatus: [String: Int] = [:]
        var languages = Set<String>()
        var questions = try JSONArrayStream(folder.stream(questionsFile))
        try release.forEachItem(split: nil) { item in
            let q = item.question
            questionStatus[q.status, default: 0] += 1
            languages.insert(q.language)
            if let annotator = q.annotator { annotators.insert(annotator) }
            let row: JSONValue = .object([
                ("id", .number(Double(q.id))), ("image_id", .number(Double(q.imageId))), ("split", .string(item.image.split)),
                ("question", .string(q.question)), ("answer", .string(q.answer)), ("answer_type", .string(q.answerType)),
                ("options", q.options.map { .array($0.map(JSONValue.string)) } ?? .null),
                ("correct_option", q.correctOption.map { .number(Double($0)) } ?? .null),
                ("question_type", .string(q.questionType)), ("label", .optional(q.label)),
                ("groundable", .bool(q.groundable)), ("language", .string(q.language)),
                ("template_id", .optional(q.templateId)), ("status", .string(q.status)),
                ("target_region_ids", .array(item.regions.map { .number(Double($0.id)) })),
            ])
            try questions.append(row)
        }
        try questions.close()

        // 2. The metadata.
        let statement = record?.statement
        let facts = ProjectFacts(
            deidentified: deidentified, notDeidentified: notDeidentified, regionStatus: regionStatus,
            questionStatus: questionStatus, annotators: annotators.count)
        var document: [(key: String, value: JSONValue)] = [
            ("@context", context), ("@type", "sc:Dataset"),
            ("name", .string(statement?.name ?? "Groundwork release \(summary.version)")),
            ("description", .string(statement?.description ?? defaultDescription(summary))),
            ("conformsTo", ["http://mlcommons.org/croissant/1.1", "http://mlcommons.org/croissant/RAI/1.0"]),
            ("version", .string(summary.version)), ("datePublished", .string(summary.created)),
            ("identifier", .string("groundwork-content-sha256:\(summary.contentHash)")),
        ]
        let licenses = Array(Set(summary.sources.compactMap(\.license))).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        if !licenses.isEmpty { document.append(("license", .array(licenses.map { .string(licenseURL($0)) }))) }
        let citations = record?.sourceCitations ?? []
        if let citation = statement?.citation {
            document.append(("citeAs", .string(citation)))
        } else if !citations.isEmpty {
            document.append(("citeAs", .string(citations.map(\.citation).joined(separator: "\n\n"))))
        }
        if let creators = statement?.creators, !creators.isEmpty {
            document.append(("creator", .array(creators.map(person))))
        }
        if let url = statement?.url { document.append(("url", .string(url))) }
        document += [
            ("keywords", ["medical imaging", "visual question answering", "visual grounding", "benchmark"]),
            ("inLanguage", .array(languages.sorted().map(JSONValue.string))),
            ("isBasedOn", .array(sources(summary, citations: citations))),
        ]
        document += rai(statement, summary: summary, facts: facts)
        document.append(("distribution", .array(distribution(folder.manifestEntries, imagePaths: imagePaths))))
        document.append(("recordSet", .array(recordSets(summary))))
        try folder.write(fileName, text: pretty(.object(document)) + "\n")
        return RAIStatus(statement)
    }

    /// What the project knows, for the RAI fields.
    struct ProjectFacts {
        var deidentified: [String: Int]
        var notDeidentified: Int
        var regionStatus: [String: Int]
        var questionStatus: [String: Int]
        var annotators: Int
    }

    /// The JSON-LD context of Croissant 1.1 (as mlcroissant writes it), with the RAI prefix.
    static let context: JSONValue = [
        "@language": "en", "@vocab": "https://schema.org/", "arrayShape": "cr:arrayShape", "citeAs": "cr:citeAs",
        "column": "cr:column", "conformsTo": "dct:conformsTo", "containedIn": "cr:containedIn",
        "cr": "http://mlcommons.org/croissant/", "rai": "http://mlcommons.org/croissant/RAI/",
        "data": ["@id": "cr:data", "@type": "@json"], "dataType": ["@id": "cr:dataType", "@type": "@vocab"],
        "dct": "http://purl.org/dc/terms/", "description": ["@container": "@language"],
        "equivalentProperty": "cr:equivalentProperty", "examples": ["@id": "cr:examples", "@type": "@json"],
        "extract": "cr:extract", "field": "cr:field", "fileProperty": "cr:fileProperty", "fileObject": "cr:fileObject",
        "fileSet": "cr:fileSet", "format": "cr:format", "includes": "cr:includes", "isArray": "cr:isArray",
        "isLiveDataset": "cr:isLiveDataset", "jsonPath": "cr:jsonPath", "key": "cr:key", "md5": "cr:md5",
        "name": ["@container": "@language"], "parentField": "cr:parentField", "path": "cr:path",
        "recordSet": "cr:recordSet", "references": "cr:references", "regex": "cr:regex", "repeated": "cr:repeated",
        "replace": "cr:replace", "samplingRate": "cr:samplingRate", "sc": "https://schema.org/",
        "separator": "cr:separator", "source": "cr:source", "subField": "cr:subField", "transform": "cr:transform",
    ]

    /// An image's de-identification as its render record holds it (`profile; options: …`), or nil
    /// when Groundwork did not de-identify it (a PNG or JPEG import, or DICOM without --deidentify).
    static func deidentification(_ image: ReleasedImage) -> String? {
        guard let render = image.render, let record = try? JSONValue.parse(Array(render.utf8)),
            let members = record.objectValue, let method = members.first(where: { $0.key == "deidentification" })?.value,
            let fields = method.objectValue, let profile = fields.first(where: { $0.key == "profile" })?.value.stringValue
        else { return nil }
        let options = fields.first { $0.key == "options" }?.value.arrayValue?.compactMap(\.stringValue) ?? []
        return options.isEmpty ? profile : "\(profile); options: \(options.joined(separator: ", "))"
    }

    static func defaultDescription(_ summary: ReleaseSummary) -> String {
        let images = summary.splits.reduce(0) { $0 + $1.images }
        let regions = summary.splits.reduce(0) { $0 + $1.regions }
        let questions = summary.splits.reduce(0) { $0 + $1.questions }
        return
            "A medical visual question answering benchmark with expert grounding regions, built with Groundwork: \(images) image(s), \(regions) region(s), \(questions) question(s) in \(summary.splits.count) part(s)."
    }

    /// An SPDX identifier as its licence page; any other licence text as it is.
    static func licenseURL(_ license: String) -> String {
        let isIdentifier =
            !license.isEmpty
            && license.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-.+".unicodeScalars.contains($0))
            }
        return isIdentifier ? "https://spdx.org/licenses/\(license).html" : license
    }

    static func person(_ creator: RAIStatement.Creator) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("@type", "sc:Person"), ("name", .string(creator.name))]
        if let affiliation = creator.affiliation {
            members.append(("affiliation", ["@type": "sc:Organization", "name": .string(affiliation)]))
        }
        if let email = creator.email { members.append(("email", .string(email))) }
        if let url = creator.url { members.append(("url", .string(url))) }
        return .object(members)
    }

    /// Every source with its licence, its citation and whether it is restricted.
    static func sources(_ summary: ReleaseSummary, citations: [ReleaseRAIRecord.SourceCitation]) -> [JSONValue] {
        summary.sources.map { source in
            var members: [(key: String, value: JSONValue)] = [
                ("@type", "sc:CreativeWork"), ("name", .string(source.source ?? "(no source)")),
            ]
            if let license = source.license { members.append(("license", .string(licenseURL(license)))) }
            if let citation = citations.first(where: { $0.source == source.source })?.citation {
                members.append(("citation", .string(citation)))
            }
            let access =
                source.restricted
                ? "restricted: exported by reference only (SHA-256, no pixels)" : "images exported with their pixels"
            members.append(("description", .string("\(source.images) image(s); \(access)")))
            return .object(members)
        }
    }

    /// The RAI fields: the statement's, then what the project knows.
    static func rai(_ statement: RAIStatement?, summary: ReleaseSummary, facts: ProjectFacts) -> [(
        key: String, value: JSONValue
    )] {
        var out: [(key: String, value: JSONValue)] = []
        func text(_ key: String, _ value: String?) {
            if let value { out.append((key, .string(value))) }
        }
        text("rai:dataCollection", statement?.dataCollection)
        text("rai:dataAnnotationProtocol", statement?.annotationProcess)
        text("rai:annotatorDemographics", statement?.annotators)
        func counts(_ byStatus: [String: Int]) -> String {
            let parts = byStatus.keys.sorted().map { "\(byStatus[$0]!) \($0)" }
            return parts.isEmpty ? "none" : parts.joined(separator: ", ")
        }
        out.append(
            (
                "rai:dataAnnotationAnalysis",
                .string(
                    "Review status of what the release holds: regions \(counts(facts.regionStatus)); questions \(counts(facts.questionStatus)). \(summary.parameters.reviewedOnly ? "Released with --reviewed-only: drafts left out." : "Drafts and reviewed items released; rejected ones never are.") \(facts.annotators) named annotator(s)."
                )
            ))
        var limitations: [JSONValue] = statement?.limitations.map { [.string($0)] } ?? []
        limitations.append(.string("Leakage across parts: \(summary.leakage.summary)."))
        if let waiver = summary.parameters.leakageWaiver {
            limitations.append(.string("Released despite leakage, waived for this reason: \(waiver)"))
        }
        out.append(("rai:dataLimitations", .array(limitations)))
        text("rai:dataBiases", statement?.biases)
        var sensitive: [JSONValue] = statement?.personalSensitiveInformation.map { [.string($0)] } ?? []
        for method in facts.deidentified.keys.sorted() {
            sensitive.append(.string("\(facts.deidentified[method]!) image(s) de-identified on import: \(method)."))
        }
        if facts.notDeidentified > 0 {
            sensitive.append(
                .string(
                    "\(facts.notDeidentified) image(s) not de-identified by Groundwork (PNG or JPEG imports, or DICOM imported without --deidentify): their curators vouch for them."
                ))
        }
        let restricted = summary.sources.filter(\.restricted)
        if !restricted.isEmpty {
            let names = restricted.map { "\($0.source ?? "(no source)") (\($0.images) image(s))" }.joined(separator: ", ")
            sensitive.append(
                .string("Restricted sources, exported by reference only (SHA-256, no pixels and no paths): \(names)."))
        }
        out.append(("rai:personalSensitiveInformation", .array(sensitive)))
        text("rai:dataUseCases", statement?.intendedUse)
        return out
    }

    /// The MIME type of a file, by its extension.
    static func encodingFormat(_ path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "json": "application/json"
        case "jsonl": "application/jsonlines"
        case "tsv": "text/tab-separated-values"
        case "csv": "text/csv"
        case "md": "text/markdown"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "txt", "md5": "text/plain"
        case "npy": "application/x-npy"
        case "parquet": "application/x-parquet"
        default: "application/octet-stream"
        }
    }

    /// Every file written so far: image files as `FileSet`s (by top folder, depth and extension,
    /// when no other file matches the set's pattern), every other file as a `FileObject`.
    static func distribution(_ entries: [ManifestEntry], imagePaths: [Int64: String]) -> [JSONValue] {
        let sorted = entries.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        let imageFiles = Set(imagePaths.values)
        /// The glob pattern a file falls under: `*.ext` at the root, `top/*.ext` one folder down,
        /// `top/**/*.ext` deeper.
        func pattern(_ path: String) -> String {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            let ext = (path as NSString).pathExtension
            let star = ext.isEmpty ? "*" : "*.\(ext)"
            switch parts.count {
            case 1: return star
            case 2: return "\(parts[0])/\(star)"
            default: return "\(parts[0])/**/\(star)"
            }
        }
        let otherPatterns = Set(sorted.filter { !imageFiles.contains($0.path) }.map { pattern($0.path) })
        var sets: [String: Int] = [:]
        var objects: [JSONValue] = []
        for entry in sorted {
            let filePattern = pattern(entry.path)
            if imageFiles.contains(entry.path) && !otherPatterns.contains(filePattern) {
                sets[filePattern, default: 0] += 1
                continue
            }
            var members: [(key: String, value: JSONValue)] = [
                ("@type", "cr:FileObject"), ("@id", .string(entry.path)), ("name", .string(entry.path)),
                ("contentUrl", .string(entry.path)), ("encodingFormat", .string(encodingFormat(entry.path))),
                ("contentSize", .string("\(entry.size) B")), ("sha256", .string(entry.sha256)),
            ]
            if let md5 = entry.md5 { members.append(("md5", .string(md5))) }
            objects.append(.object(members))
        }
        let fileSets: [JSONValue] = sets.keys.sorted().enumerated().map { index, glob in
            .object([
                ("@type", "cr:FileSet"), ("@id", .string("image-files-\(index + 1)")), ("name", .string("image files \(glob)")),
                (
                    "description",
                    .string(
                        "\(sets[glob]!) image file(s); each one's path and SHA-256 are in the images record set (file, file_sha256)"
                    )
                ),
                ("encodingFormat", .string(encodingFormat(glob))), ("includes", .string(glob)),
            ])
        }
        return objects + fileSets
    }

    /// A field of a record set read from one of the record sets' files by JSON path.
    static func field(
        _ recordSet: String, _ name: String, _ type: String, file: String, description: String, array: Bool = false,
        extra: [(key: String, value: JSONValue)] = []
    ) -> JSONValue {
        var source: [(key: String, value: JSONValue)] = [
            ("fileObject", ["@id": .string(file)]), ("extract", ["jsonPath": .string("$[*].\(name)")]),
        ]
        source += extra
        var members: [(key: String, value: JSONValue)] = [
            ("@type", "cr:Field"), ("@id", .string("\(recordSet)/\(name)")), ("name", .string("\(recordSet)/\(name)")),
            ("description", .string(description)), ("dataType", .string(type)),
        ]
        if array { members += [("isArray", true), ("arrayShape", "-1")] }
        members.append(("source", .object(source)))
        if name == "split" { members.append(("references", ["field": ["@id": "splits/name"]])) }
        return .object(members)
    }

    static func recordSets(_ summary: ReleaseSummary) -> [JSONValue] {
        func recordSet(_ id: String, _ description: String, _ fields: [JSONValue]) -> JSONValue {
            .object([
                ("@type", "cr:RecordSet"), ("@id", .string(id)), ("name", .string(id)), ("description", .string(description)),
                ("key", ["@id": .string("\(id)/id")]), ("field", .array(fields)),
            ])
        }
        let splitField: (String, String, String) -> JSONValue = { name, type, description in
            .object([
                ("@type", "cr:Field"), ("@id", .string("splits/\(name)")), ("name", .string("splits/\(name)")),
                ("description", .string(description)), ("dataType", .string(type)),
            ])
        }
        let splits: JSONValue = .object([
            ("@type", "cr:RecordSet"), ("@id", "splits"), ("name", "splits"),
            ("description", "The release's parts (splits); the images of a patient (or other split group) are in one part."),
            ("dataType", "cr:Split"), ("key", ["@id": "splits/name"]),
            (
                "field",
                [
                    splitField("name", "sc:Text", "The part's name."),
                    splitField("images", "sc:Integer", "Images in the part."),
                    splitField("regions", "sc:Integer", "Regions on the part's images."),
                    splitField("questions", "sc:Integer", "Questions on the part's images."),
                ]
            ),
            (
                "data",
                .array(
                    summary.splits.map { part in
                        [
                            "splits/name": .string(part.split), "splits/images": .number(Double(part.images)),
                            "splits/regions": .number(Double(part.regions)),
                            "splits/questions": .number(Double(part.questions)),
                        ]
                    })
            ),
        ])
        let i = imagesFile
        let images = recordSet(
            "images", "One record per released image.",
            [
                field("images", "id", "sc:Integer", file: i, description: "The image's id (the project's)."),
                field("images", "sha256", "sc:Text", file: i, description: "SHA-256 of the image as stored in the project."),
                field("images", "split", "sc:Text", file: i, description: "The part the image is in."),
                field(
                    "images", "file", "sc:Text", file: i,
                    description:
                        "Path of the image's file in this export; null when the export holds none (--images none, a restricted source, or pixels embedded in the format's own file)."
                ),
                field("images", "file_sha256", "sc:Text", file: i, description: "SHA-256 of that file; null when there is none."),
                field("images", "format", "sc:Text", file: i, description: "png or jpeg."),
                field("images", "width", "sc:Integer", file: i, description: "Width as displayed (EXIF orientation applied)."),
                field("images", "height", "sc:Integer", file: i, description: "Height as displayed."),
                field("images", "modality", "sc:Text", file: i, description: "Imaging modality, e.g. CT, MR, CR."),
                field("images", "body_part", "sc:Text", file: i, description: "Body part examined."),
                field("images", "source", "sc:Text", file: i, description: "The source (dataset or site) it came from."),
                field("images", "license", "sc:Text", file: i, description: "Its licence (SPDX), its own or its source's."),
                field(
                    "images", "restricted", "sc:Boolean", file: i,
                    description: "True for a restricted source: exported by reference only."),
                field(
                    "images", "deidentification", "sc:Text", file: i,
                    description:
                        "How Groundwork de-identified the image on import (DICOM PS3.15 profile and options); null when it did not."
                ),
            ])
        let r = regionsFile
        let regions = recordSet(
            "regions", "One record per released region (expert annotation).",
            [
                field("regions", "id", "sc:Integer", file: r, description: "The region's id."),
                field("regions", "image_id", "sc:Integer", file: r, description: "The image it is drawn on (images/id)."),
                field("regions", "label", "sc:Text", file: r, description: "The label's name."),
                field("regions", "kind", "sc:Text", file: r, description: "box, polygon or mask."),
                field(
                    "regions", "bbox", "cr:BoundingBox", file: r,
                    description:
                        "The region's tight box, XYXY: x0 y0 x1 y1 in pixels of the image as displayed, 0-based, continuous, half-open (origin at the top-left corner of the top-left pixel; a pixel (i, j) covers [i, i+1) x [j, j+1)).",
                    extra: [("format", "XYXY")]),
                field(
                    "regions", "area", "sc:Float", file: r,
                    description: "Area in square pixels: the box's or polygon's continuous area, a mask's pixel count."),
                field(
                    "regions", "iscrowd", "sc:Boolean", file: r, description: "True for a crowd region (a group of instances)."),
                field("regions", "annotator", "sc:Text", file: r, description: "Who drew it; null when not recorded."),
                field("regions", "status", "sc:Text", file: r, description: "Review status: draft or reviewed."),
            ])
        let q = questionsFile
        let questions = recordSet(
            "questions", "One record per released question.",
            [
                field("questions", "id", "sc:Integer", file: q, description: "The question's id."),
                field("questions", "image_id", "sc:Integer", file: q, description: "The image it asks about (images/id)."),
                field("questions", "split", "sc:Text", file: q, description: "The part its image is in."),
                field("questions", "question", "sc:Text", file: q, description: "The question."),
                field("questions", "answer", "sc:Text", file: q, description: "The reference answer."),
                field("questions", "answer_type", "sc:Text", file: q, description: "closed (yes/no), open or choice."),
                field(
                    "questions", "options", "sc:Text", file: q, description: "A choice question's options; null otherwise.",
                    array: true),
                field(
                    "questions", "correct_option", "sc:Integer", file: q,
                    description: "The 0-based index of the correct option; null unless a choice question."),
                field(
                    "questions", "question_type", "sc:Text", file: q,
                    description: "localization, attribute, classification or other."),
                field("questions", "label", "sc:Text", file: q, description: "The target label's name; null when none."),
                field(
                    "questions", "groundable", "sc:Boolean", file: q,
                    description: "True when the answer must be grounded in the target regions."),
                field("questions", "language", "sc:Text", file: q, description: "The question's language (BCP 47)."),
                field(
                    "questions", "template_id", "sc:Text", file: q,
                    description: "The template it was generated from; null when none."),
                field("questions", "status", "sc:Text", file: q, description: "Review status: draft or reviewed."),
                field(
                    "questions", "target_region_ids", "sc:Integer", file: q,
                    description: "The target regions (regions/id), ascending; their union is the target.", array: true),
            ])
        return [splits, images, regions, questions]
    }

    /// JSON text indented by two spaces, members in their given order (JSON-LD reads best with
    /// `@context` and `@type` first); scalars in canonical form.
    static func pretty(_ value: JSONValue, indent: String = "") -> String {
        let inner = indent + "  "
        switch value {
        case .array(let elements):
            if elements.isEmpty { return "[]" }
            if elements.allSatisfy({ $0.arrayValue == nil && $0.objectValue == nil }) {
                return "[" + elements.map { $0.canonicalText() }.joined(separator: ", ") + "]"
            }
            return "[\n" + elements.map { inner + pretty($0, indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let members):
            if members.isEmpty { return "{}" }
            return "{\n"
                + members.map { inner + JSONValue.string($0.key).canonicalText() + ": " + pretty($0.value, indent: inner) }
                .joined(separator: ",\n") + "\n\(indent)}"
        default:
            return value.canonicalText()
        }
    }
}

/// A JSON array written to an export file row by row: `[`, the rows in canonical text, one a line
/// and comma-separated, then `]` (the record sets' files).
private struct JSONArrayStream {
    private let stream: ExportStream
    private var first = true

    init(_ stream: ExportStream) throws {
        self.stream = stream
        try stream.write("[")
    }

    mutating func append(_ row: JSONValue) throws {
        try stream.write((first ? "\n" : ",\n") + row.canonicalText())
        first = false
    }

    func close() throws {
        try stream.write("\n]\n")
        try stream.close()
    }
}
