from django_filters.rest_framework import DjangoFilterBackend


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, which builds the filter set's whole form at every request, left out when the
    request names none of its filters: an agenda window, the API's most frequent read, filters on nothing."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not any(
                param == name or param.startswith(f"{name}_")  # a range's name_min, name_after, ...
                for param in request.query_params for name in filterset_class.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)
