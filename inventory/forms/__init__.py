"""Forms of the warehouse staff screens. Each turns a domain error from the stock services
into an error next to the field it concerns."""
