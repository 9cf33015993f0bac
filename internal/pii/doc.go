// Package pii handles personal information: identity documents, display
// masking, field encryption and blind indexes.
//
// It exists because the platform stores ID numbers, phone numbers and faces
// of residents. PIPL (Art. 28, 51) classes these as sensitive and requires
// encryption and de-identification, and GB/T 35273-2020 requires encrypted
// storage (6.3) and display restriction on screens and exports (7.x). Keeping
// validation, masking and cryptography in one small package means every
// caller gets the same normalised values, the same masks and the same
// ciphertext format, and a reviewer has one place to audit.
package pii
