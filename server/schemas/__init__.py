"""Marshmallow schemas: the shapes that cross the API edge, one module per resource."""
