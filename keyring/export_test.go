package keyring

import "github.com/google/uuid"

// HasCipher reports whether k keeps a cipher ready for member.
func HasCipher(k *Keyring, member uuid.UUID) bool { return k.ciphers.Contains(member) }

// Ciphers is how many members' ciphers k keeps ready.
func Ciphers(k *Keyring) int { return k.ciphers.Len() }
