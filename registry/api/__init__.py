"""REST API for clinical records (serializers + viewsets over registry.services)."""
