package gate

// ForgetFaces takes faces revoked outside Revoke (the retention purge of
// people who moved out, store.PurgeFaces) out of this instance's index at
// once, and tells the other instances to re-read them.
func (s *Service) ForgetFaces(ids []string) {
	for _, id := range ids {
		s.Faces.Forget(id)
		s.tell(TopicFace, faceNote{ID: id})
	}
}
