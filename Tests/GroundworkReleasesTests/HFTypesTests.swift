import Foundation
import GroundworkCore
import GroundworkReleases
import Testing

/// The hf export loaded by the venv's `datasets` gives every column the card's declared type, and
/// every value the release holds (no null where a value exists), also when the first rows of a
/// split have no options and when a split has no choice question at all: ImageFolder takes the
/// types of its metadata from the file, so `metadata.parquet` carries them.
@Suite(.serialized) struct HFTypesTests {
    /// Loads an hf export with `datasets`, compares its features with the card's `dataset_info`
    /// and every row with the jsonl export of the same release (by question id); prints, per split,
    /// the rows, the rows with options, and whether the first row has options.
    static let script = """
        import json, sys, datasets, yaml
        hf, jsonl, with_images = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
        card = open(hf + "/README.md").read().split("---\\n")[1]
        declared = datasets.Features._from_yaml_list(yaml.safe_load(card)["dataset_info"]["features"])
        ds = datasets.load_dataset(hf)
        import glob, os
        expected = {}
        for path in glob.glob(jsonl + "/*.jsonl"):
            if os.path.basename(path) == "labels.jsonl":
                continue
            for line in open(path):
                row = json.loads(line)
                expected[row["id"]] = row
        for split in sorted(ds):
            table = ds[split]
            assert table.features == declared, (split, table.features, declared)
            with_options = 0
            first_has_options = None
            for row in table:
                want = expected[row["id"]]
                if first_has_options is None:
                    first_has_options = row["options"] is not None
                assert row["options"] == want.get("options"), (row["id"], row["options"], want.get("options"))
                assert row["correct_option"] == want.get("correct_option"), row["id"]
                if row["options"] is not None:
                    with_options += 1
                for key in ("question", "answer", "answer_type", "question_type", "label", "language", "groundable"):
                    assert row[key] == want.get(key), (row["id"], key, row[key], want.get(key))
                regions = want.get("regions") or []
                assert len(row["objects"]["id"]) == len(regions), row["id"]
                if with_images:
                    assert row["image"].size == (row["width"], row["height"]), row["id"]
            print(split, len(table), with_options, first_has_options)
        """

    @Test(.enabled(if: pythonCrossChecks, "set GROUNDWORK_PYTHON to a python with datasets (tools/test does)"))
    func everyColumnHasItsDeclaredTypeAndItsValues() throws {
        let fixture = try FormatFixture()
        // Releases of a second split, 3 patients to 1: the first whose smaller part holds no choice
        // question (the choice questions are on two patients' images); deterministic by seed.
        var versions = ["1.0.0"]
        for seed in 1...32 {
            _ = try Splitter.run(
                fixture.project,
                parameters: SplitParameters(
                    name: "s\(seed)", parts: try SplitPart.parse("train=0.75,test=0.25"), groupBy: .patient, stratify: [],
                    seed: UInt64(seed)))
            let version = "2.0.\(seed)"
            _ = try ReleaseBuilder.create(
                fixture.project, request: ReleaseRequest(version: SemanticVersion(version), split: "s\(seed)"))
            let out = fixture.folder.path + "/probe-\(seed)"
            _ = try Exporter.export(fixture.project, version: version, format: .jsonl, out: out, images: .none)
            let test = try jsonLines(out + "/test.jsonl")
            if !test.isEmpty && !test.contains(where: { $0["options"]?.arrayValue != nil }) {
                versions.append(version)
                break
            }
        }
        #expect(versions.count == 2, "no seed gave a part without choice questions")
        let environment = [
            "HF_HOME": fixture.folder.path + "/hf-home", "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1",
            "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
        ]
        var sawSplitWithout = false
        var sawLateOptions = false
        for version in versions {
            let jsonl = fixture.folder.path + "/jsonl-\(version)"
            _ = try Exporter.export(fixture.project, version: version, format: .jsonl, out: jsonl, images: .none)
            for images in [ImageMode.none, nil] {
                let hf = fixture.folder.path + "/hf-\(version)-\(images == nil ? "pixels" : "none")"
                if let images {
                    _ = try Exporter.export(fixture.project, version: version, format: .hf, out: hf, images: images)
                } else {
                    _ = try Exporter.export(fixture.project, version: version, format: .hf, out: hf)
                    #expect(FileIO.kind(hf + "/data/test/metadata.parquet").isRegular)
                }
                let result = try runPython(Self.script, [hf, jsonl, images == nil ? "1" : "0"], environment: environment)
                #expect(result.status == 0, "\(hf): \(result.output)")
                for line in result.output.split(separator: "\n") {
                    let parts = line.split(separator: " ")
                    guard parts.count == 4, let rows = Int(parts[1]), let withOptions = Int(parts[2]) else { continue }
                    if rows > 0 && withOptions == 0 { sawSplitWithout = true }
                    if withOptions > 0 && parts[3] == "False" { sawLateOptions = true }
                }
            }
        }
        #expect(sawSplitWithout, "no split without choice questions was loaded")
        #expect(sawLateOptions, "no split whose first row has no options was loaded")
    }

    @Test func theCardDeclaresTheParquetColumns() {
        let card = HFWriter.features(withImage: true, keepPaths: false)
        #expect(card.first?.name == "image" && card.first?.type == ["dtype: image"])
        let objects = card.first { $0.name == "objects" }?.type ?? []
        #expect(
            objects == [
                "struct:", "- name: id", "  list: string", "- name: category", "  list: string", "- name: bbox", "  list:",
                "    list: float64", "- name: area", "  list: float64", "- name: iscrowd", "  list: bool",
            ])
        #expect(card.first { $0.name == "options" }?.type == ["list: string"])
        #expect(card.first { $0.name == "correct_option" }?.type == ["dtype: int64"])
    }
}
