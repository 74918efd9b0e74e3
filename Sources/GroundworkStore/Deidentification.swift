import Crypto
import Foundation
import GRDB
import GroundworkCore
import GroundworkImaging

/// The options of DICOM PS3.15 Annex E that `--deidentify` offers, each recorded in the file's
/// Deidentification Method Code Sequence by its CID 7050 code.
public struct DeidentificationOptions: Sendable, Equatable {
    /// Retain Longitudinal Temporal Information with Full Dates Option (113106): dates and times kept.
    public var retainLongitudinalDates = false
    /// Retain Device Identity Option (113109): station name, serial numbers, device UIDs kept.
    public var retainDeviceIdentity = false
    /// Retain Patient Characteristics Option (113108): sex, age, size, weight, smoking, pregnancy kept.
    public var retainPatientCharacteristics = false
    /// Clean Descriptors Option (113105): descriptions kept with every identifying value of the
    /// file (names, IDs, dates, institution) taken out, instead of removed.
    public var cleanDescriptors = false

    public init() {}

    /// The options chosen, by name, for records.
    public var names: [String] {
        var names: [String] = []
        if retainLongitudinalDates { names.append("retain-longitudinal-dates") }
        if retainDeviceIdentity { names.append("retain-device-identity") }
        if retainPatientCharacteristics { names.append("retain-patient-characteristics") }
        if cleanDescriptors { names.append("clean-descriptors") }
        return names
    }
}

/// What a de-identification did, for the render record.
struct DeidentificationSummary {
    var record: JSONValue
}

/// The PS3.15 Annex E Basic Application Level Confidentiality Profile, applied to a DICOM file
/// before Groundwork stores anything of it.
///
/// The table below is the profile's attributes that occur in the images Groundwork imports
/// (patient, study, series, equipment, acquisition, image and SOP common modules, and the
/// references between instances); each has the profile's action, or the option's when one is
/// chosen. Beyond the table: every private attribute is removed, curve data (50xx) and overlay
/// data and comments (60xx,3000 and 60xx,4000) are removed, and attributes outside the table are
/// kept. UIDs are replaced by `2.25.` and the decimal of the first 128 bits of
/// HMAC-SHA-256(project secret, UID), so one UID maps to one new UID across the project; Patient
/// ID and Patient's Name become the pseudonym `GW-` and 16 hex digits of HMAC-SHA-256(project
/// secret, Patient ID), stable across imports. PatientIdentityRemoved (YES),
/// DeidentificationMethod, DeidentificationMethodCodeSequence (113100 and the options' codes) and
/// LongitudinalTemporalInformationModified are recorded in the file.
struct Deidentifier {
    let options: DeidentificationOptions
    let key: [UInt8]

    typealias Rule = DICOMFile.Rule

    /// (tag, profile action, the option that overrides it and its action).
    enum Option { case dates, device, characteristics, descriptors }

    static let table: [(tag: UInt32, keyword: String, action: Rule.Action, option: Option?, optionAction: Rule.Action?)] = [
        // SOP common and references between instances.
        (0x0008_0014, "InstanceCreatorUID", .replaceUID, nil, nil),
        (0x0008_0018, "SOPInstanceUID", .replaceUID, nil, nil),
        (0x0008_0058, "FailedSOPInstanceUIDList", .replaceUID, nil, nil),
        (0x0008_010D, "ContextGroupExtensionCreatorUID", .replaceUID, nil, nil),
        (0x0008_1155, "ReferencedSOPInstanceUID", .replaceUID, nil, nil),
        (0x0008_1195, "TransactionUID", .replaceUID, nil, nil),
        (0x0020_000D, "StudyInstanceUID", .replaceUID, nil, nil),
        (0x0020_000E, "SeriesInstanceUID", .replaceUID, nil, nil),
        (0x0020_0052, "FrameOfReferenceUID", .replaceUID, nil, nil),
        (0x0020_0200, "SynchronizationFrameOfReferenceUID", .replaceUID, nil, nil),
        (0x0020_9161, "ConcatenationUID", .replaceUID, nil, nil),
        (0x0020_9164, "DimensionOrganizationUID", .replaceUID, nil, nil),
        (0x0040_A124, "UID", .replaceUID, nil, nil),
        (0x0062_0021, "TrackingUID", .replaceUID, nil, nil),
        (0x0088_0140, "StorageMediaFileSetUID", .replaceUID, nil, nil),
        (0x3006_0024, "ReferencedFrameOfReferenceUID", .replaceUID, nil, nil),
        (0x3006_00C2, "RelatedFrameOfReferenceUID", .replaceUID, nil, nil),
        (0x0018_1002, "DeviceUID", .replaceUID, .device, .keep),
        (0x0008_1110, "ReferencedStudySequence", .remove, nil, nil),
        (0x0008_1111, "ReferencedPerformedProcedureStepSequence", .remove, nil, nil),
        (0x0008_1120, "ReferencedPatientSequence", .remove, nil, nil),
        (0x0008_0012, "InstanceCreationDate", .remove, .dates, .keep),
        (0x0008_0013, "InstanceCreationTime", .remove, .dates, .keep),
        (0x0008_0201, "TimezoneOffsetFromUTC", .remove, .dates, .keep),
        // Patient.
        (0x0010_0010, "PatientName", .dummy, nil, nil),
        (0x0010_0020, "PatientID", .dummy, nil, nil),
        (0x0010_0021, "IssuerOfPatientID", .remove, nil, nil),
        (0x0010_0030, "PatientBirthDate", .empty, nil, nil),
        (0x0010_0032, "PatientBirthTime", .remove, nil, nil),
        (0x0010_0040, "PatientSex", .empty, .characteristics, .keep),
        (0x0010_1000, "OtherPatientIDs", .remove, nil, nil),
        (0x0010_1001, "OtherPatientNames", .remove, nil, nil),
        (0x0010_1002, "OtherPatientIDsSequence", .remove, nil, nil),
        (0x0010_1005, "PatientBirthName", .remove, nil, nil),
        (0x0010_1010, "PatientAge", .remove, .characteristics, .keep),
        (0x0010_1020, "PatientSize", .remove, .characteristics, .keep),
        (0x0010_1030, "PatientWeight", .remove, .characteristics, .keep),
        (0x0010_1040, "PatientAddress", .remove, nil, nil),
        (0x0010_1060, "PatientMotherBirthName", .remove, nil, nil),
        (0x0010_1090, "MedicalRecordLocator", .remove, nil, nil),
        (0x0010_2150, "CountryOfResidence", .remove, nil, nil),
        (0x0010_2152, "RegionOfResidence", .remove, nil, nil),
        (0x0010_2154, "PatientTelephoneNumbers", .remove, nil, nil),
        (0x0010_2160, "EthnicGroup", .remove, .characteristics, .keep),
        (0x0010_2180, "Occupation", .remove, nil, nil),
        (0x0010_21A0, "SmokingStatus", .remove, .characteristics, .keep),
        (0x0010_21B0, "AdditionalPatientHistory", .remove, nil, nil),
        (0x0010_21C0, "PregnancyStatus", .remove, .characteristics, .keep),
        (0x0010_4000, "PatientComments", .remove, nil, nil),
        (0x0038_0010, "AdmissionID", .remove, nil, nil),
        (0x0038_0300, "CurrentPatientLocation", .remove, nil, nil),
        (0x0038_0500, "PatientState", .remove, nil, nil),
        // Study, visit, request.
        (0x0008_0020, "StudyDate", .empty, .dates, .keep),
        (0x0008_0030, "StudyTime", .empty, .dates, .keep),
        (0x0008_0050, "AccessionNumber", .empty, nil, nil),
        (0x0008_0090, "ReferringPhysicianName", .empty, nil, nil),
        (0x0008_0092, "ReferringPhysicianAddress", .remove, nil, nil),
        (0x0008_0094, "ReferringPhysicianTelephoneNumbers", .remove, nil, nil),
        (0x0008_0096, "ReferringPhysicianIdentificationSequence", .remove, nil, nil),
        (0x0008_009C, "ConsultingPhysicianName", .empty, nil, nil),
        (0x0008_1030, "StudyDescription", .remove, .descriptors, .clean),
        (0x0008_1048, "PhysiciansOfRecord", .remove, nil, nil),
        (0x0008_1049, "PhysiciansOfRecordIdentificationSequence", .remove, nil, nil),
        (0x0008_1060, "NameOfPhysiciansReadingStudy", .remove, nil, nil),
        (0x0008_1062, "PhysiciansReadingStudyIdentificationSequence", .remove, nil, nil),
        (0x0008_1080, "AdmittingDiagnosesDescription", .remove, .descriptors, .clean),
        (0x0008_1084, "AdmittingDiagnosesCodeSequence", .remove, nil, nil),
        (0x0020_0010, "StudyID", .empty, nil, nil),
        (0x0032_1032, "RequestingPhysician", .remove, nil, nil),
        (0x0032_1033, "RequestingService", .remove, nil, nil),
        (0x0032_1060, "RequestedProcedureDescription", .remove, .descriptors, .clean),
        (0x0032_4000, "StudyComments", .remove, nil, nil),
        (0x0040_0006, "ScheduledPerformingPhysicianName", .remove, nil, nil),
        (0x0040_0244, "PerformedProcedureStepStartDate", .remove, .dates, .keep),
        (0x0040_0245, "PerformedProcedureStepStartTime", .remove, .dates, .keep),
        (0x0040_0253, "PerformedProcedureStepID", .remove, nil, nil),
        (0x0040_0254, "PerformedProcedureStepDescription", .remove, .descriptors, .clean),
        (0x0040_0275, "RequestAttributesSequence", .remove, nil, nil),
        (0x0040_1001, "RequestedProcedureID", .remove, nil, nil),
        (0x0040_0555, "AcquisitionContextSequence", .remove, nil, nil),
        (0x0040_A730, "ContentSequence", .remove, nil, nil),
        // Series, equipment, acquisition, image.
        (0x0008_0021, "SeriesDate", .dummy, .dates, .keep),
        (0x0008_0022, "AcquisitionDate", .dummy, .dates, .keep),
        (0x0008_0023, "ContentDate", .dummy, .dates, .keep),
        (0x0008_002A, "AcquisitionDateTime", .dummy, .dates, .keep),
        (0x0008_0031, "SeriesTime", .dummy, .dates, .keep),
        (0x0008_0032, "AcquisitionTime", .dummy, .dates, .keep),
        (0x0008_0033, "ContentTime", .dummy, .dates, .keep),
        (0x0008_0080, "InstitutionName", .remove, nil, nil),
        (0x0008_0081, "InstitutionAddress", .remove, nil, nil),
        (0x0008_1010, "StationName", .remove, .device, .keep),
        (0x0008_103E, "SeriesDescription", .remove, .descriptors, .clean),
        (0x0008_1040, "InstitutionalDepartmentName", .remove, nil, nil),
        (0x0008_1050, "PerformingPhysicianName", .remove, nil, nil),
        (0x0008_1052, "PerformingPhysicianIdentificationSequence", .remove, nil, nil),
        (0x0008_1070, "OperatorsName", .empty, nil, nil),
        (0x0008_1072, "OperatorIdentificationSequence", .remove, nil, nil),
        (0x0008_2111, "DerivationDescription", .remove, .descriptors, .clean),
        (0x0018_1000, "DeviceSerialNumber", .remove, .device, .keep),
        (0x0018_1004, "PlateID", .remove, .device, .keep),
        (0x0018_1005, "GeneratorID", .remove, .device, .keep),
        (0x0018_1007, "CassetteID", .remove, .device, .keep),
        (0x0018_1008, "GantryID", .remove, .device, .keep),
        (0x0018_1030, "ProtocolName", .remove, .descriptors, .clean),
        (0x0018_1400, "AcquisitionDeviceProcessingDescription", .remove, .descriptors, .clean),
        (0x0020_4000, "ImageComments", .remove, .descriptors, .clean),
        (0x0070_0084, "ContentCreatorName", .empty, nil, nil),
        (0x0070_0086, "ContentCreatorIdentificationCodeSequence", .remove, nil, nil),
    ]

    /// The rules for the chosen options, pseudonym filled in; families (curves, overlays) last.
    func rules(pseudonym: String) -> [Rule] {
        var rules: [Rule] = Self.table.map { entry in
            var action = entry.action
            if let option = entry.option, let optionAction = entry.optionAction, chosen(option) { action = optionAction }
            var value: String?
            if entry.tag == 0x0010_0010 || entry.tag == 0x0010_0020 { value = pseudonym }
            return Rule(tag: entry.tag, action: action, value: value)
        }
        rules.append(Rule(tag: 0x5000_0000, mask: 0xFF00_0000, action: .remove))  // curve data
        rules.append(Rule(tag: 0x6000_3000, mask: 0xFF00_FFFF, action: .remove))  // overlay data
        rules.append(Rule(tag: 0x6000_4000, mask: 0xFF00_FFFF, action: .remove))  // overlay comments
        return rules
    }

    func chosen(_ option: Option) -> Bool {
        switch option {
        case .dates: options.retainLongitudinalDates
        case .device: options.retainDeviceIdentity
        case .characteristics: options.retainPatientCharacteristics
        case .descriptors: options.cleanDescriptors
        }
    }

    func keyed(_ label: String, _ value: String) -> [UInt8] {
        let code = HMAC<SHA256>.authenticationCode(for: Array((label + "\u{0}" + value).utf8), using: SymmetricKey(data: key))
        return Array(code)
    }

    /// `2.25.` and the decimal of the first 128 bits of the keyed hash (at most 44 characters).
    func replacementUID(_ uid: String) -> String {
        var digits = Array(keyed("uid", uid).prefix(16))
        var decimal: [Character] = []
        while digits.contains(where: { $0 != 0 }) {
            var remainder = 0
            for index in digits.indices {
                let value = remainder * 256 + Int(digits[index])
                digits[index] = UInt8(value / 10)
                remainder = value % 10
            }
            decimal.append(Character(String(remainder)))
        }
        return "2.25." + (decimal.isEmpty ? "0" : String(decimal.reversed()))
    }

    /// The patient's pseudonym: from Patient ID, else from name and birth date.
    func pseudonym(_ attributes: JSONValue) -> String {
        let id = DICOMImport.nonEmpty(attributes["PatientID"])
        let basis =
            id.map { "id:" + $0 }
            ?? "name:\(DICOMImport.nonEmpty(attributes["PatientName"]) ?? ""):\(DICOMImport.nonEmpty(attributes["PatientBirthDate"]) ?? "")"
        let hex = keyed("patient", basis).prefix(8).map { String(format: "%02X", $0) }.joined()
        return "GW-" + hex
    }

    /// The identifying values of the file that cleaning takes out of descriptions.
    static func identifyingWords(_ attributes: JSONValue) -> [String] {
        var words: Set<String> = []
        for keyword in [
            "PatientName", "PatientID", "OtherPatientIDs", "OtherPatientNames", "PatientBirthName", "PatientBirthDate",
            "AccessionNumber", "InstitutionName", "InstitutionAddress", "ReferringPhysicianName", "OperatorsName",
            "PerformingPhysicianName", "StudyID", "PatientMotherBirthName", "PatientAddress",
        ] {
            guard let value = attributes[keyword] else { continue }
            let texts = (value.arrayValue ?? [value]).compactMap(\.stringValue)
            for text in texts {
                var found: [String] = text.split(whereSeparator: { "^=\\ ,".contains($0) }).map(String.init)
                found.append(text)
                // Cleaning compares ASCII letters without case; other letters (Müller, MÜLLER) are
                // matched through their cased forms.
                for word in found where word.count >= 3 {
                    words.insert(word)
                    if word.unicodeScalars.contains(where: { !$0.isASCII }) {
                        words.formUnion([word.uppercased(), word.lowercased(), word.capitalized])
                    }
                }
            }
        }
        // Longest first, so that a full name goes before its parts.
        return words.sorted { ($0.count, $0) > ($1.count, $1) }
    }

    /// De-identifies the file in place.
    func apply(to file: DICOMFile) throws(DICOMError) -> DeidentificationSummary {
        let original = try file.attributes()
        let pseudonym = pseudonym(original)
        let rules = rules(pseudonym: pseudonym)
        let uids = try file.uids(replacedBy: rules)
        var map: [String: String] = [:]
        for uid in uids { map[uid] = replacementUID(uid) }
        try file.deidentify(
            rules: rules, removePrivate: true, uidMap: map, cleanWords: Self.identifyingWords(original))
        try file.setString(0x0012_0062, "YES")  // PatientIdentityRemoved
        let method = (["Groundwork PS3.15 E.1 Basic Profile"] + options.names).joined(separator: "; ")
        try file.setString(0x0012_0063, String(method.prefix(64)))  // DeidentificationMethod (LO)
        try file.setString(0x0028_0303, options.retainLongitudinalDates ? "UNMODIFIED" : "REMOVED")
        try file.addDeidentificationCode(
            value: "113100", scheme: "DCM", meaning: "Basic Application Confidentiality Profile")
        if options.cleanDescriptors {
            try file.addDeidentificationCode(value: "113105", scheme: "DCM", meaning: "Clean Descriptors Option")
        }
        if options.retainLongitudinalDates {
            try file.addDeidentificationCode(
                value: "113106", scheme: "DCM", meaning: "Retain Longitudinal Temporal Information Full Dates Option")
        }
        if options.retainPatientCharacteristics {
            try file.addDeidentificationCode(value: "113108", scheme: "DCM", meaning: "Retain Patient Characteristics Option")
        }
        if options.retainDeviceIdentity {
            try file.addDeidentificationCode(value: "113109", scheme: "DCM", meaning: "Retain Device Identity Option")
        }
        return DeidentificationSummary(record: [
            "profile": "PS3.15 E.1 Basic Application Level Confidentiality Profile",
            "options": .array(options.names.map { .string($0) }),
            "uids_replaced": .number(Double(map.count)),
        ])
    }

    /// The project's de-identification secret (created by the v4 migration).
    static func projectKey(_ db: Database) throws -> [UInt8]? {
        guard let hex = try String.fetchOne(db, sql: "SELECT value FROM project_secret WHERE name = 'deidentification'")
        else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes.count >= 16 ? bytes : nil
    }
}

/// UIDs as this project's de-identification replaces them: how a reference to an original UID
/// (a DICOM SEG's ReferencedSOPInstanceUID) finds an image imported with `--deidentify`.
public struct DeidentifiedUIDs: Sendable {
    private let deidentifier: Deidentifier

    /// The project's mapping; nil when the project has no de-identification secret.
    public init?(project: Project) throws {
        guard let key = try project.database.read({ try Deidentifier.projectKey($0) }) else { return nil }
        deidentifier = Deidentifier(options: DeidentificationOptions(), key: key)
    }

    /// The UID that de-identifying a file in this project gives `uid`.
    public func replacement(for uid: String) -> String { deidentifier.replacementUID(uid) }
}
