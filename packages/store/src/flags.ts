// Record header flag bits, as in proto/ctdbng/v1/records.proto (RecordFlag). The store depends
// on nothing of the protocol package, so the two values are repeated here and a test compares.
export const RecordFlags = {
  MIGRATED_WITH_DATA: 1,
  AUTOMATIC: 2,
} as const;
