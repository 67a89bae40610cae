"""The course side of the backend: what is sold, at what price, to whom, and the records of it.

catalogue.py  the catalogue (knowledge/documents/course_catalogue.yml): shape, look-ups, a user's
              words to ids, and the one rendering of a package's fields
pricing.py    the price of a package for a set of subjects
recommend.py  which package fits a student, with the catalogue's words as reasons
contact.py    the one rule for a mobile number and a name
sales.py      enrollments and call-back leads: idempotent storage, the staff pipeline's queries
schemas.py    request bodies of the course, enrollment and lead endpoints
responses.py  what those endpoints answer (quotes, enrollments, leads; phones masked)
The web layer is bot/routes/courses.py, enrollments.py, leads.py, contacts.py and pipeline.py.
"""
